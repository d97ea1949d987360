"""Language consistency: the share of the reasoning's words that are in the target language.

DeepSeek-R1 (DeepSeek-AI 2025, section 2.3.2) adds this reward in its reasoning RL stage because
R1-Zero's chains of thought mixed languages: "the proportion of target language words in the CoT".
The paper does not say how words are assigned a language; we make that a pluggable detector.

A detector maps text to one label per word. The default, `script_words`, labels words by Unicode
script: a run of letters of one script is a word, except that every CJK character (Han, kana,
Hangul syllables) counts as a word of its own, since those scripts do not separate words by spaces
and a character is the closest unit to an English word. Digits, punctuation and symbols are not
words. Labels are script names ("latin", "cjk", "cyrillic", ...), so "target language" means
target script: enough to tell an English chain of thought from one drifting into Chinese, not to tell
English from French. A finer detector (a language-id model per word or per sentence) plugs in as
any function `str -> list[str]`, named as "module:function" in the config.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from r1lab.rewards.signals import reasoning_text

Detector = Callable[[str], list[str]]

# Language codes that users may give as a target, mapped to the script the default detector reports.
LANGUAGE_SCRIPTS = {
    "en": "latin", "fr": "latin", "de": "latin", "es": "latin", "it": "latin", "pt": "latin", "nl": "latin",
    "zh": "cjk", "ja": "cjk", "ko": "cjk", "ru": "cyrillic", "uk": "cyrillic", "el": "greek", "ar": "arabic",
}

# (first code point, last code point, script). CJK covers Han (unified, extension A/B, compatibility),
# Japanese kana, Hangul syllables and jamo.
_RANGES = (
    (0x0041, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"), (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "cjk"), (0x3040, 0x30FF, "cjk"), (0x3130, 0x318F, "cjk"), (0x3400, 0x4DBF, "cjk"),
    (0x4E00, 0x9FFF, "cjk"), (0xAC00, 0xD7AF, "cjk"), (0xF900, 0xFAFF, "cjk"), (0x20000, 0x2FA1F, "cjk"),
)


def char_script(ch: str) -> str | None:
    """The script of a letter, or None for anything that is not a letter (digits, punctuation,
    spaces, symbols). Letters outside the known ranges are "other"."""
    if not ch.isalpha():
        return None
    cp = ord(ch)
    for lo, hi, script in _RANGES:
        if lo <= cp <= hi:
            return script
    return "other"


def script_words(text: str) -> list[str]:
    """One script label per word. 'hello 世界!' -> ['latin', 'cjk', 'cjk']."""
    labels: list[str] = []
    current: str | None = None  # script of the Latin-like word being read, None between words
    for ch in text:
        script = char_script(ch)
        if script == "cjk":
            labels.append("cjk")
            current = None
        elif script is None:
            current = None
        elif script != current:
            labels.append(script)
            current = script
    return labels


def resolve_detector(spec: str | Detector) -> Detector:
    """'script' (the default above), or 'package.module:function' naming any `str -> list[str]`."""
    if callable(spec):
        return spec
    if spec == "script":
        return script_words
    if ":" not in spec:
        raise ValueError(f"language detector {spec!r}: expected 'script' or 'module:function'")
    module_name, fn_name = spec.split(":", 1)
    fn = getattr(importlib.import_module(module_name), fn_name, None)
    if not callable(fn):
        raise ValueError(f"language detector {spec!r}: {module_name} has no function {fn_name}")
    return fn


def target_label(target: str) -> str:
    """A language code ('en', 'zh') becomes its script; a script name passes through."""
    return LANGUAGE_SCRIPTS.get(target.lower(), target.lower())


def dominant_language(text: str, detector: Detector = script_words, default: str = "latin") -> str:
    """The most frequent label among the text's words (ties: the first seen); `default` for no words.
    The default target of a prompt is its own dominant language."""
    labels = detector(text)
    if not labels:
        return default
    return max(dict.fromkeys(labels), key=labels.count)


def language_consistency(response: str, target: str, detector: Detector = script_words) -> float:
    """Share of the reasoning's words whose label is the target, in [0, 1]. Only the reasoning is
    judged (inside <think> when present). No words at all (a chain of pure arithmetic) counts as
    consistent: nothing in it is in another language."""
    labels = detector(reasoning_text(response))
    if not labels:
        return 1.0
    want = target_label(target)
    return sum(label == want for label in labels) / len(labels)


def mixes_languages(response: str, target: str, detector: Detector = script_words) -> bool:
    """True when any word of the reasoning is in a language other than the target."""
    return language_consistency(response, target, detector) < 1.0


def language_mixing_rate(responses: list[str], targets: list[str], detector: Detector = script_words) -> float:
    """Share of responses whose reasoning mixes in another language: the rate to log every step."""
    if len(responses) != len(targets):
        raise ValueError("responses and targets have different lengths")
    if not responses:
        return 0.0
    return sum(mixes_languages(r, t, detector) for r, t in zip(responses, targets)) / len(responses)


def problem_language(problem, detector: Detector = script_words) -> str:
    """The target language of a problem: its meta["language"] when the task sets one, else the
    dominant language of its question (R1: the CoT should stay in the language of the prompt)."""
    meta = getattr(problem, "meta", None) or {}
    return meta.get("language") or dominant_language(problem.question, detector)
