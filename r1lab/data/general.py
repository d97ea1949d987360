"""The demo's non-reasoning data: small synthetic general requests (rewriting, short formatting,
factual look-ups) with preference pairs a reward model can learn from.

R1's last stages mix in "non-reasoning" data (writing, factual QA, translation) scored by reward
models of human preference (DeepSeek-AI 2025, sections 2.3.3-2.3.4). We have no humans and no such
model, so we make requests whose better answer is decidable by construction and write pairs in the
shape of human preferences: the chosen response does what was asked, in the think/answer frame, in
the prompt's language; the rejected one is one of four typical failures:

- wrong: a plausible but wrong answer (the words left unsorted, a wrong count, a wrong fact);
- loop: the answer repeated until it runs on (the repetition loops of small models);
- mixed: the right answer with the reasoning drifting into Chinese characters (language mixing);
- unformatted: the right answer with the think/answer frame missing.

Kinds of request (all short, so a model of a few million parameters can at least attempt them):
reverse the words, sort numbers, join words with commas, count words, opposite of a word, plural of
a word. Everything is generated from a seed; prompts for RL, pairs for the reward model and SFT
examples come from separate seeded streams (with so few kinds of request, some prompts recur across
them, e.g. "What is the opposite of hot ?").
"""

from __future__ import annotations

import random
from pathlib import Path

from r1lab.data.io import SFTExample, write_jsonl, write_sft

WORDS = ("red", "blue", "green", "cat", "dog", "sun", "tree", "map", "cup", "box", "pen", "hat", "car", "bird")
OPPOSITES = {"hot": "cold", "big": "small", "up": "down", "old": "new", "fast": "slow", "day": "night",
             "left": "right", "open": "shut", "wet": "dry", "high": "low", "full": "empty", "light": "dark"}
PLURALS = {"cat": "cats", "box": "boxes", "child": "children", "mouse": "mice", "foot": "feet", "cup": "cups",
           "bus": "buses", "man": "men", "tooth": "teeth", "city": "cities", "leaf": "leaves", "pen": "pens"}
MIX_CHARS = "的是了我不在有这个上们来到时大地为子中你说"
KINDS = ("reverse", "sort", "join", "count", "opposite", "plural")
FAILURES = ("wrong", "loop", "mixed", "unformatted")


def make_request(rng: random.Random) -> dict:
    """One request: its prompt, a short reasoning note, the right answer and a wrong one."""
    kind = rng.choice(KINDS)
    if kind in ("reverse", "join", "count"):
        words = rng.sample(WORDS, rng.randint(3, 5))
        text = " ".join(words)
        if kind == "reverse":
            return _req(kind, f"Reverse the words : {text} .", "reverse the order", " ".join(words[::-1]), text)
        if kind == "join":
            return _req(kind, f"Join with commas : {text} .", "put commas between", " , ".join(words), text)
        wrong = str(len(words) + rng.choice((-1, 1)))
        return _req(kind, f"How many words : {text} ?", "count them", str(len(words)), wrong)
    if kind == "sort":
        numbers = rng.sample(range(1, 100), rng.randint(3, 4))
        text = " ".join(map(str, numbers))
        return _req(kind, f"Sort the numbers : {text} .", "smallest first", " ".join(map(str, sorted(numbers))),
                    text if numbers != sorted(numbers) else " ".join(map(str, numbers[::-1])))
    table = OPPOSITES if kind == "opposite" else PLURALS
    word = rng.choice(sorted(table))
    wrong = word if kind == "opposite" else word + "s" if table[word] != word + "s" else word
    question = f"What is the opposite of {word} ?" if kind == "opposite" else f"What is the plural of {word} ?"
    return _req(kind, question, "recall the word", table[word], wrong)


def _req(kind: str, prompt: str, note: str, answer: str, wrong: str) -> dict:
    return {"kind": kind, "prompt": prompt, "note": note, "answer": answer, "wrong": wrong}


def framed(note: str, answer: str) -> str:
    return f"<think> {note} . </think> <answer> {answer} </answer>"


def chosen_response(req: dict) -> str:
    return framed(req["note"], req["answer"])


def rejected_response(req: dict, failure: str, rng: random.Random) -> str:
    if failure == "wrong":
        return framed(req["note"], req["wrong"])
    if failure == "loop":
        return framed(req["note"], " ".join([req["answer"]] * rng.randint(4, 7)))
    if failure == "mixed":
        note = " ".join(w + rng.choice(MIX_CHARS) + rng.choice(MIX_CHARS) for w in req["note"].split())
        return framed(note, req["answer"])
    return f"{req['note']} , {req['answer']}"  # unformatted


def requests(n: int, stream: str, seed: int) -> list[dict]:
    """n distinct requests from a named seeded stream."""
    rng = random.Random(f"general-{stream}-{seed}")
    out, seen = [], set()
    for _ in range(100 * n):
        req = make_request(rng)
        if req["prompt"] not in seen:
            seen.add(req["prompt"])
            out.append(req)
        if len(out) == n:
            break
    return out


def make_pairs(n: int, seed: int) -> list[dict]:
    rng = random.Random(f"general-pair-failures-{seed}")
    return [{"prompt": r["prompt"], "chosen": chosen_response(r), "rejected": rejected_response(r, f, rng),
             "kind": r["kind"], "failure": f}
            for r in requests(n, "pairs", seed) for f in [rng.choice(FAILURES)]]


def write_demo_data(out_dir: str | Path, seed: int = 0, prompts: int = 64, pairs: int = 400,
                    sft: int = 64) -> dict[str, str]:
    """prompts.jsonl (general prompts for RL), pairs.jsonl (for the reward model), sft.jsonl (chosen
    answers to other requests: the non-reasoning part of R1's SFT mixture). Returns the paths."""
    out = Path(out_dir)
    paths = {"prompts": out / "prompts.jsonl", "pairs": out / "pairs.jsonl", "sft": out / "sft.jsonl"}
    write_jsonl(paths["prompts"], ({"id": f"general-{i}", "prompt": r["prompt"], "kind": r["kind"]}
                                   for i, r in enumerate(requests(prompts, "prompts", seed))))
    write_jsonl(paths["pairs"], make_pairs(pairs, seed))
    write_sft(paths["sft"], (SFTExample([{"role": "user", "content": r["prompt"]},
                                         {"role": "assistant", "content": chosen_response(r)}],
                                        {"source": "general-demo", "kind": r["kind"]})
                             for r in requests(sft, "sft", seed)))
    return {k: str(v) for k, v in paths.items()}
