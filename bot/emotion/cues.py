"""Surface cues that sentence embeddings miss: punctuation, caps, swearing, negation, complaint words, emoji.

Every pattern here is linear in the text length (literal alternations, no nested repetition), and only
the first MAX_CUE_CHARS characters are read, so a 10,000-character message costs about what a
long one does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.emotion import lexicon as lx

MAX_CUE_CHARS = 2000
MAX_WORD_NGRAM = 4

CUE_FEATURES = (
    "exclamation",
    "question_run",
    "all_caps",
    "profanity",
    "anger_words",
    "complaint",
    "urgency",
    "anxiety_words",
    "sadness_words",
    "joy_words",
    "negated_praise",
    "disagreement",
    "negations",
    "emoji_anger",
    "emoji_sadness",
    "emoji_joy",
    "emoji_anxiety",
    "chinese",
)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_EXCLAMATION_RUN = re.compile(r"[!！]{2,}")
_QUESTION_RUN = re.compile(r"[?？]{3,}|[?？][!！]|[!！][?？]")
_CAPS_EXEMPT = frozenset(
    {
        "OK",
        "ATM",
        "PIN",
        "USA",
        "UK",
        "EU",
        "ID",
        "SMS",
        "APP",
        "VIP",
        "FAQ",
        "PDF",
        "USB",
        "TV",
        "PC",
        "IT",
        "AM",
        "PM",
        "DHL",
        "UPS",
        "FBI",
        "CEO",
        "I",
    }
)
_NEGATION_EN = frozenset(lx.NEGATION_WORDS_EN)
_ZH_POLITE_NOT_NEGATIVE = ("不好意思", "好不好", "不好说", "不管", "不客气", "不用谢", "没关系", "不错")


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_NEGATED_PRAISE_ZH = re.compile(
    f"(?:{_alternation(lx.NEGATION_ZH)})(?:太|是很|是太|很|怎么|够|算|大)?(?:{_alternation(lx.PRAISE_ZH)})"
)
_NEGATED_PRAISE_EN = re.compile(
    rf"\b(?:{_alternation(lx.NEGATION_EN)}|\w+n't)\s+(?:(?:very|really|so|too|that|at all|quite|"
    rf"particularly|been|be|feel|feeling|am|is|was|at)\s+)?(?:{_alternation(lx.PRAISE_EN)})\b"
)


@dataclass(frozen=True, slots=True)
class Cue:
    """One thing found in the text, with the labels it argues for and a readable reason."""

    feature: str
    signal: str
    supports: frozenset[str]


@dataclass(frozen=True, slots=True)
class CueReport:
    features: np.ndarray  # (len(CUE_FEATURES),) float32, each in [0, 1]
    cues: tuple[Cue, ...]


_NEGATIVE = frozenset({"anger", "anxiety", "sadness"})
_ANY = frozenset({"anger", "anxiety", "sadness", "joy"})

_LEXICONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], frozenset[str], str, int], ...] = (
    # feature, english words, chinese words, supported labels, signal prefix, cap
    ("profanity", lx.PROFANITY_EN, lx.PROFANITY_ZH, frozenset({"anger"}), "profanity", 2),
    ("anger_words", lx.ANGER_EN, lx.ANGER_ZH, frozenset({"anger"}), "lexicon", 3),
    ("complaint", lx.COMPLAINT_EN, lx.COMPLAINT_ZH, frozenset({"anger"}), "lexicon", 2),
    ("urgency", lx.URGENCY_EN, lx.URGENCY_ZH, frozenset({"anger", "anxiety"}), "urgency", 2),
    ("anxiety_words", lx.ANXIETY_EN, lx.ANXIETY_ZH, frozenset({"anxiety"}), "lexicon", 2),
    ("sadness_words", lx.SADNESS_EN, lx.SADNESS_ZH, frozenset({"sadness"}), "lexicon", 2),
    ("joy_words", lx.JOY_EN, lx.JOY_ZH, frozenset({"joy"}), "lexicon", 3),
    ("disagreement", lx.DISAGREE_EN, lx.DISAGREE_ZH, frozenset({"anger"}), "disagreement", 2),
)

_EMOJI_GROUPS = (
    ("emoji_anger", lx.EMOJI_ANGER, lx.STICKER_ANGER, frozenset({"anger"})),
    ("emoji_sadness", lx.EMOJI_SAD, lx.STICKER_SAD, frozenset({"sadness"})),
    ("emoji_joy", lx.EMOJI_JOY, lx.STICKER_JOY, frozenset({"joy"})),
    ("emoji_anxiety", lx.EMOJI_ANXIETY, lx.STICKER_ANXIETY, frozenset({"anxiety"})),
)


def _english_ngrams(lowered: str) -> set[str]:
    words = _WORD.findall(lowered)
    grams: set[str] = set(words)
    for size in range(2, MAX_WORD_NGRAM + 1):
        grams.update(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))
    return grams


@lru_cache(maxsize=1)
def _english_lexicons() -> dict[str, frozenset[str]]:
    return {feature: frozenset(w.lower() for w in en) for feature, en, *_ in _LEXICONS}


def _chinese_share(text: str) -> float:
    if not text:
        return 0.0
    non_space = sum(1 for ch in text if not ch.isspace())
    return len(_CJK.findall(text)) / max(non_space, 1)


def _caps_shouting(text: str) -> bool:
    words = [w for w in _LATIN_WORD.findall(text) if len(w) >= 2]
    shouted = [w for w in words if w.isupper() and w not in _CAPS_EXEMPT]
    if len(shouted) >= 3:
        return True
    return len(words) >= 2 and len(shouted) >= 2 and len(shouted) / len(words) >= 0.5


def _strip_negated_negatives(lowered: str) -> str:
    for phrase in lx.NEGATED_NEGATIVE_ZH + lx.NEGATED_NEGATIVE_EN:
        if phrase in lowered:
            lowered = lowered.replace(phrase, " ")
    return lowered


def extract_cues(text: str) -> CueReport:
    """Find every surface cue in `text`; never raises, whatever the input."""
    text = (text or "")[:MAX_CUE_CHARS]
    lowered = text.lower().replace("\u2019", "'")
    values = dict.fromkeys(CUE_FEATURES, 0.0)
    cues: list[Cue] = []

    runs = _EXCLAMATION_RUN.findall(text)
    exclamations = text.count("!") + text.count("！")
    values["exclamation"] = min(exclamations, 6) / 6
    if runs:
        cues.append(Cue("exclamation", "exclamation run", _ANY))
    if _QUESTION_RUN.search(text):
        values["question_run"] = 1.0
        cues.append(Cue("question_run", "question run", _NEGATIVE))
    chinese = _chinese_share(text) >= 0.3
    # Writing in capitals is shouting only in Latin-script text; inside Chinese, capitals are acronyms (WHO, NBA).
    if not chinese and _caps_shouting(text):
        values["all_caps"] = 1.0
        cues.append(Cue("all_caps", "all caps", frozenset({"anger"})))

    negated = [m.group(0) for m in _NEGATED_PRAISE_ZH.finditer(_strip_for_praise(text))]
    negated += [m.group(0) for m in _NEGATED_PRAISE_EN.finditer(lowered)]
    if negated:
        values["negated_praise"] = min(len(negated), 2) / 2
        cues.append(Cue("negated_praise", f"negated praise:{negated[0]}", _NEGATIVE))

    cleaned = _strip_negated_negatives(lowered)
    for phrase in negated:
        cleaned = cleaned.replace(phrase, " ")
    grams = _english_ngrams(cleaned)
    english = _english_lexicons()
    for feature, _en, zh, supports, prefix, cap in _LEXICONS:
        found = [w for w in zh if w in cleaned]
        found += sorted(english[feature] & grams, key=cleaned.find)
        if found:
            values[feature] = min(len(found), cap) / cap
            cues.append(Cue(feature, f"{prefix}:{found[0]}", supports))

    for feature, emoji_chars, stickers, supports in _EMOJI_GROUPS:
        found = [ch for ch in emoji_chars if ch in text] + [s for s in stickers if s in text]
        if found:
            values[feature] = 1.0
            cues.append(Cue(feature, f"emoji:{found[0]}", supports))

    negations = sum(1 for w in _WORD.findall(lowered) if w in _NEGATION_EN or w.endswith("n't"))
    negations += sum(text.count(ch) for ch in lx.NEGATION_CHARS_ZH)
    values["negations"] = min(negations, 3) / 3
    values["chinese"] = 1.0 if chinese else 0.0
    features = np.fromiter((values[name] for name in CUE_FEATURES), dtype=np.float32, count=len(CUE_FEATURES))
    return CueReport(features=features, cues=tuple(cues))


def _strip_for_praise(text: str) -> str:
    for phrase in _ZH_POLITE_NOT_NEGATIVE:
        if phrase in text:
            text = text.replace(phrase, " ")
    return text
