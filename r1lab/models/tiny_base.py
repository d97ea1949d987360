"""`r1lab base build`: make the embedded tiny base model from nothing, reproducibly from a seed.

Reads top to bottom: synthetic corpus (r1lab/models/signs_corpus.py for the signs task's searches, the
shipped base's; r1lab/models/corpus.py for the demo task's chains) -> byte-level BPE tokenizer ->
Llama config -> pretraining (a plain AdamW loop, cosine schedule, loss on every real token) ->
save (safetensors, tokenizer, generation config) -> a quick held-out evaluation per style that goes
into the model card (README.md in the output directory).

Same seed, same corpus and same tokenizer everywhere; the same weights on the same machine, torch
build and thread count (CPU float reductions depend on how work is split across threads).
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections import Counter
from pathlib import Path
from statistics import mean
from typing import Literal

import torch
from pydantic import Field
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from r1lab.config import DEFAULT_MAX_NEW_TOKENS, Strict
from r1lab.models import corpus as chain_corpus
from r1lab.models import signs_corpus
from r1lab.models.corpus import rate
from r1lab.models.templates import R1_ZERO_TEMPLATE
from r1lab.rewards.signals import emergence_stats, has_check

PAD, EOS = "<|pad|>", "<|endoftext|>"
TAGS = ("<think>", "</think>", "<answer>", "</answer>")
# Each corpus module gives make_corpus(n, seed), corpus_settings(), corpus_stats(docs), card_lines(settings,
# measured) and TASK, the task of its held-out problems.
CORPORA = {"signs": signs_corpus, "chain": chain_corpus}
FORMAT_RE = re.compile(r"^\s*<think>(.+?)</think>\s*<answer>(.+?)</answer>\s*$", re.DOTALL)


class BaseBuildConfig(Strict):
    """How the embedded tiny base model is rebuilt: its corpus, byte-level BPE tokenizer, a small Llama
    and its pretraining, and the held-out evaluation of its model card."""

    seed: int = Field(0, description="seed of the corpus, the initial weights and the batch order")
    corpus: Literal["signs", "chain"] = Field(
        "signs", description="what the base is pretrained on: 'signs' (r1lab/models/signs_corpus.py, the "
        "signs task's searches, in which checking pays; the shipped tiny-base) or 'chain' "
        "(r1lab/models/corpus.py, the demo task's chains of additions)")
    corpus_size: int = Field(24000, ge=10, description="documents in the pretraining corpus")
    vocab_size: int = Field(640, ge=300, description="tokenizer vocabulary: room for every number of a chain "
                            "and the second script's words as single tokens")
    hidden_size: int = Field(160, ge=8, description="model width")
    layers: int = Field(4, ge=1, description="transformer layers")
    heads: int = Field(4, ge=1, description="attention heads")
    kv_heads: int = Field(2, ge=1, description="key/value heads (grouped-query attention)")
    intermediate_size: int = Field(576, ge=8, description="MLP hidden width")
    tie_embeddings: bool = Field(True, description="share the input embedding and output projection")
    max_positions: int = Field(512, ge=64, description="longest sequence (tokens) the model is built for")
    steps: int = Field(3200, ge=1, description="pretraining optimizer steps")
    batch_size: int = Field(32, ge=1, description="documents per pretraining step")
    learning_rate: float = Field(2e-3, gt=0, description="peak learning rate (AdamW)")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="cosine decay ends at learning_rate x this")
    warmup_steps: int = Field(100, ge=0, description="linear warmup steps")
    weight_decay: float = Field(0.1, ge=0, description="AdamW weight decay")
    threads: int = Field(2, ge=1, description="torch threads (the weights depend on it)")
    eval_problems: int = Field(64, ge=0, description="held-out problems of the corpus's task for the model "
                               "card; 0 skips the evaluation")
    eval_samples: int = Field(8, ge=1, description="samples per held-out problem for the model card")
    eval_max_new_tokens: int = Field(DEFAULT_MAX_NEW_TOKENS, ge=1, description="longest response of the model card's "
                                     "evaluation, in tokens (the training stages' default: room for a signs search)")
    log_every: int = Field(50, ge=1, description="print the loss every N steps")


# ---------------------------------------------------------------------------------------- tokenizer
def train_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE, so any text round-trips exactly. A number (with the space before it) is one
    pre-token, so BPE learns the demo's few dozen numbers as whole tokens: a single step ("7 + 5 =
    12") is then a lookup a model of a million parameters learns in minutes, where digit-by-digit
    tokens left it off by one after 500 steps. The think/answer tags are single ordinary (not
    special) tokens, so decoding with skip_special_tokens keeps them."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" ?[0-9]+"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(TAGS), special_tokens=[PAD, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    # The tags become whole tokens below; keep BPE from spending merges on their pieces.
    tag_re = re.compile("|".join(re.escape(t) for t in TAGS))
    tok.train_from_iterator((tag_re.sub(" ", t) for t in texts), trainer)
    tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in TAGS])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, eos_token=EOS, model_max_length=512,
        clean_up_tokenization_spaces=False,  # " ." must stay " ." for exact round trips
    )


def encode_docs(docs: list, tokenizer) -> list[list[int]]:
    """Each document as prompt + response + EOS (the model learns to stop)."""
    ids = tokenizer([d.text for d in docs], add_special_tokens=False)["input_ids"]
    return [seq + [tokenizer.eos_token_id] for seq in ids]


# ------------------------------------------------------------------------------------------- model
def model_config(cfg: BaseBuildConfig, tokenizer) -> LlamaConfig:
    """Llama rather than Qwen2: transformers 5 loads a Qwen2 directory's tokenizer as Qwen2Tokenizer,
    which replaces the pre-tokenizer of tokenizer.json with Qwen's own, so the model would be fed
    tokens it never saw in training. For a Llama directory it keeps tokenizer.json as saved."""
    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads, num_key_value_heads=cfg.kv_heads,
        max_position_embeddings=cfg.max_positions, tie_word_embeddings=cfg.tie_embeddings,
        bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # tied weights are counted once


# ------------------------------------------------------------------------------------- pretraining
def batches(sequences: list[list[int]], batch_size: int, steps: int, seed: int):
    """Yield `steps` batches of indices, epoch after epoch, each epoch a fresh shuffle. Within
    windows of 16 batches documents are sorted by length, so a batch pads little."""
    rng = random.Random(f"r1lab-batches-{seed}")
    made = 0
    while True:
        order = list(range(len(sequences)))
        rng.shuffle(order)
        window = 16 * batch_size
        epoch = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start:start + window], key=lambda i: len(sequences[i]))
            epoch += [chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size)]
        rng.shuffle(epoch)
        for batch in epoch:
            yield batch
            made += 1
            if made == steps:
                return


def collate(sequences: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    labels = ids.masked_fill(mask == 0, -100)  # no loss on padding
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def lr_at(step: int, cfg: BaseBuildConfig) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio of the peak."""
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return cfg.learning_rate * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cosine)


def pretrain(model, sequences: list[list[int]], pad_id: int, cfg: BaseBuildConfig, log=print,
             on_log=None) -> list[float]:
    """Plain next-token pretraining; returns the loss of every step. `on_log(step)`, when given, runs
    at every log line (experiments evaluate the model there)."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]  # norms: no weight decay
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.learning_rate, betas=(0.9, 0.95))
    model.train()
    losses, tokens, start = [], 0, time.time()
    for step, batch in enumerate(batches(sequences, cfg.batch_size, cfg.steps, cfg.seed)):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        inputs = collate([sequences[i] for i in batch], pad_id)
        loss = model(**inputs).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        tokens += int(inputs["attention_mask"].sum())
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            recent = losses[-cfg.log_every:]
            log(f"step {step + 1}/{cfg.steps}  loss {sum(recent) / len(recent):.4f}  "
                f"lr {lr_at(step, cfg):.2e}  tokens {tokens}  {tokens / (time.time() - start):.0f} tok/s")
            if on_log is not None:
                on_log(step + 1)
                model.train()
    model.eval()
    return losses


# ------------------------------------------------------------------------------------- evaluation
def response_style(response: str) -> str:
    """Which way a response worked: 'malformed' when the frame is broken, else 'check' when it goes
    back over its work (r1lab.rewards.signals.has_check), 'steps' when it writes equations, 'direct'
    otherwise."""
    if not FORMAT_RE.match(response):
        return "malformed"
    if has_check(response):
        return "check"
    return "steps" if " = " in response else "direct"


@torch.no_grad()
def sample_responses(model, tokenizer, prompts: list[str], n: int, max_new_tokens: int = 128,
                     temperature: float = 0.6, top_p: float = 0.95, seed: int = 0,
                     batch_prompts: int = 32) -> list[list[str]]:
    """n sampled responses per prompt with plain `generate`, stopping at </answer> or EOS."""
    torch.manual_seed(seed)
    stop = [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("</answer>")]
    out: list[list[str]] = []
    for start in range(0, len(prompts), batch_prompts):
        tokenizer.padding_side = "left"
        inputs = tokenizer(prompts[start:start + batch_prompts], return_tensors="pt", padding=True,
                           add_special_tokens=False)
        tokenizer.padding_side = "right"
        ids = model.generate(**inputs, do_sample=True, temperature=temperature, top_p=top_p,
                             max_new_tokens=max_new_tokens, num_return_sequences=n, eos_token_id=stop,
                             pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        out += [texts[i * n:(i + 1) * n] for i in range(len(texts) // n)]
    return out


def evaluate_styles(model, tokenizer, task, n_problems: int, n_samples: int, temperature: float = 0.6,
                    top_p: float = 0.95, max_new_tokens: int = 128) -> dict:
    """pass@1 on the task's held-out problems (default: the R1 evaluation setting, temperature 0.6,
    top-p 0.95), overall, per response style and per difficulty (operations), with the emergence
    signals (check rate, aha rate, language mixing) and the mean length in tokens."""
    from r1lab.rewards.language import mixes_languages

    problems = task.problems("test", n_problems, seed=0)
    prompts = [R1_ZERO_TEMPLATE.format(question=task.prompt(p)) for p in problems]
    samples = sample_responses(model, tokenizer, prompts, n_samples, max_new_tokens=max_new_tokens,
                               temperature=temperature, top_p=top_p)
    per_style: dict[str, list[float]] = {}
    per_difficulty: dict[int, list[float]] = {}
    scored, lengths, mixing = [], [], []
    for p, responses in zip(problems, samples, strict=True):
        for r in responses:
            score = task.verify(p, r).score
            per_style.setdefault(response_style(r), []).append(score)
            per_difficulty.setdefault(p.meta["operations"], []).append(score)
            scored.append((r, score == 1.0))
            lengths.append(len(tokenizer(r, add_special_tokens=False)["input_ids"]))
            mixing.append(float(mixes_languages(r, "en")))
    signals = emergence_stats(scored, lengths)
    return {
        "temperature": temperature,
        "samples": len(scored),
        "pass@1": rate([float(ok) for _, ok in scored]),
        "format_ok": 1 - len(per_style.get("malformed", [])) / len(scored),
        "mean_length": signals["response_length_mean"],
        "check_rate": signals["check_rate"],
        "aha_rate": signals["aha_rate"],
        "language_mixing_rate": rate(mixing),
        "styles": {s: {"share": len(v) / len(scored), "pass@1": rate(v)} for s, v in sorted(per_style.items())},
        "difficulty": {str(k): {"pass@1": rate(v), "samples": len(v)} for k, v in sorted(per_difficulty.items())},
    }


# ------------------------------------------------------------------------------------------- build
def build(cfg: BaseBuildConfig, out: Path, log=print) -> dict:
    """Corpus -> tokenizer -> model -> pretraining -> save -> evaluate. Returns the build record."""
    started = time.time()
    torch.set_num_threads(cfg.threads)
    source = CORPORA[cfg.corpus]
    docs = source.make_corpus(cfg.corpus_size, cfg.seed)
    tokenizer = train_tokenizer([d.text for d in docs], cfg.vocab_size)
    sequences = encode_docs(docs, tokenizer)
    log(f"corpus: {len(docs)} documents, {sum(map(len, sequences))} tokens, "
        f"{dict(sorted(Counter(d.style for d in docs).items()))}; vocabulary {len(tokenizer)}")

    torch.manual_seed(cfg.seed)
    model = LlamaForCausalLM(model_config(cfg, tokenizer))
    log(f"model: Llama, {count_parameters(model):,} parameters")
    losses = pretrain(model, sequences, tokenizer.pad_token_id, cfg, log)
    train_seconds = time.time() - started
    window = min(50, max(1, cfg.steps // 4))

    record = {
        "config": cfg.model_dump(), "parameters": count_parameters(model), "vocab_size": len(tokenizer),
        "corpus": {"documents": len(docs), "tokens": sum(map(len, sequences)), **source.corpus_settings(),
                   "styles": dict(sorted(Counter(d.style for d in docs).items())),
                   "measured": source.corpus_stats(docs)},
        # Means over the first and the last few steps (a quarter of the run at most, 50 steps at most).
        "loss_first": mean(losses[:window]), "loss_last": mean(losses[-window:]), "loss_window": window,
        "train_seconds": round(train_seconds, 1),
    }
    if cfg.eval_problems:
        task, sampling = source.TASK(), {"max_new_tokens": cfg.eval_max_new_tokens}
        record["eval"] = evaluate_styles(model, tokenizer, task, cfg.eval_problems, cfg.eval_samples, **sampling)
        record["eval_training_temperature"] = evaluate_styles(model, tokenizer, task, cfg.eval_problems,
                                                              cfg.eval_samples, temperature=1.0, top_p=1.0, **sampling)
        for name in ("eval", "eval_training_temperature"):
            ev = record[name]
            log(f"held-out at temperature {ev['temperature']}: pass@1 {ev['pass@1']:.3f}, check rate "
                f"{ev['check_rate']:.3f}, aha rate {ev['aha_rate']:.3f}, mixing {ev['language_mixing_rate']:.3f}, "
                f"per style {ev['styles']}, per difficulty {ev['difficulty']}")
    record["build_seconds"] = round(time.time() - started, 1)
    save(model, tokenizer, out, record)
    log(f"saved to {out} in {time.time() - started:.0f} s")
    return record


def save(model, tokenizer, out: Path, record: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # R1's evaluation setting as the sampling default; r1lab's generators pass their own settings.
    model.generation_config = GenerationConfig(
        do_sample=True, temperature=0.6, top_p=0.95, max_new_tokens=128,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    # "PreTrainedTokenizerFast" loads tokenizer.json as is under transformers 4 and 5 alike (5 writes
    # its own class name, TokenizersBackend, which 4 does not know).
    config_path = out / "tokenizer_config.json"
    tok_config = json.loads(config_path.read_text())
    tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(tok_config, indent=2) + "\n")
    (out / "build_info.json").write_text(json.dumps(record, indent=2) + "\n")
    (out / "README.md").write_text(model_card(record))


def model_card(record: dict) -> str:
    cfg, corpus = record["config"], record["corpus"]
    corpus_name = cfg.get("corpus", "chain")  # builds before the corpus choice were all chain bases
    source = CORPORA[corpus_name]
    lines = [
        "# tiny-base: r1lab's embedded base model",
        "",
        "A Llama-architecture causal language model of "
        f"{record['parameters'] / 1e6:.2f} M parameters ({cfg['layers']} layers, hidden {cfg['hidden_size']}, "
        f"{cfg['heads']} heads, {cfg['kv_heads']} key-value heads, MLP {cfg['intermediate_size']}, "
        f"{'tied' if cfg.get('tie_embeddings', True) else 'untied'} embeddings, float32), with a byte-level BPE "
        f"tokenizer of {record['vocab_size']} tokens (each of the task's numbers one token; "
        "`<think>`, `</think>`, `<answer>`, `</answer>` single tokens; pad `<|pad|>` distinct from EOS "
        "`<|endoftext|>`; no chat template, so r1lab prompts it with the `r1_zero` frame).",
        "",
        "It is the starting point of `r1lab demo`: a *base* model that has seen worked solutions in several "
        "styles, rarely checked, never told which style works, so R1-Zero RL has something to discover.",
        "",
        "## How it was made",
        "",
        f"`r1lab base build --seed {cfg['seed']} --corpus {corpus_name} --steps {cfg['steps']} "
        f"--corpus-size {cfg['corpus_size']} --threads {cfg['threads']}` (code: `r1lab/models/tiny_base.py`): "
        f"{record['train_seconds'] / 60:.1f} min of pretraining, {record['build_seconds'] / 60:.1f} min "
        f"in all with the evaluation below, on a shared 2-core CPU with {cfg['threads']} torch thread(s).",
        "",
        f"- Corpus: {corpus['documents']} synthetic documents, {corpus['tokens']:,} tokens, train-split "
        "problems only. Each framed document is the R1-Zero prompt and a response.",
        *source.card_lines(corpus, corpus["measured"]),
        "",
        "Share of framed documents and how often their answer is right, per style and per number of operations:",
        "",
        "| style | share | right | " + " | ".join(f"{k} ops" for k in corpus["measured"]["difficulty"]) + " |",
        "|---|---|---|" + "---|" * len(corpus["measured"]["difficulty"]),
        *[f"| {s} | {v['share_of_framed']:.1%} | {v['correct']:.3f} | "
          + " | ".join(f"{row[s]:.3f}" if s in row else "" for row in corpus["measured"]["difficulty"].values()) + " |"
          for s, v in corpus["measured"]["styles"].items()],
        "",
        f"- Pretraining: {cfg['steps']} steps of {cfg['batch_size']} documents, AdamW (peak lr "
        f"{cfg['learning_rate']}, betas 0.9/0.95, weight decay {cfg['weight_decay']}), {cfg['warmup_steps']} "
        f"warm-up steps then cosine decay to {cfg['min_lr_ratio']} of the peak, loss on every non-pad token. "
        f"Mean loss {record['loss_first']:.3f} over the first {record['loss_window']} steps, "
        f"{record['loss_last']:.3f} over the last {record['loss_window']}.",
        "- Reproducible: the same seed gives the same corpus and tokenizer everywhere, and the same weights "
        "on the same machine, torch build and thread count.",
    ]
    for name in ("eval", "eval_training_temperature"):
        if name not in record:
            continue
        ev = record[name]
        lines += [
            "",
            f"## Measured at temperature {ev['temperature']} ({cfg['eval_problems']} held-out problems x "
            f"{cfg['eval_samples']} samples, max {cfg.get('eval_max_new_tokens', 128)} new tokens)",
            "",
            f"pass@1 {ev['pass@1']:.3f}; format-valid {ev['format_ok']:.1%}; mean response length "
            f"{ev['mean_length']:.1f} tokens; responses with a self-check {ev['check_rate']:.1%}; aha "
            f"(a check that turned a wrong result right) {ev['aha_rate']:.1%}; mixing in the second script "
            f"{ev['language_mixing_rate']:.1%}.",
            "",
            "| style of the response | share of samples | pass@1 |",
            "|---|---|---|",
            *[f"| {s} | {v['share']:.1%} | {v['pass@1']:.3f} |" for s, v in ev["styles"].items()],
            "",
            "| operations | " + " | ".join(ev["difficulty"]) + " |",
            "|---|" + "---|" * len(ev["difficulty"]),
            "| pass@1 | " + " | ".join(f"{v['pass@1']:.3f}" for v in ev["difficulty"].values()) + " |",
        ]
    lines += ["", "Load it with `AutoModelForCausalLM.from_pretrained(dir)` and `AutoTokenizer.from_pretrained(dir)`, "
              "or in r1lab as `--model tiny-base`.", ""]
    return "\n".join(lines)
