"""Which language to answer in: Chinese when the message is mostly Chinese, else English."""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z]+")
SHORT_LATIN_WORDS = 2


def detect_language(text: str, fallback: str = "en") -> str:
    """A Chinese character carries about a word, so a few of them outweigh several Latin letters. A message of
    one or two Latin words keeps the conversation's language (`fallback`)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return fallback
    if cjk == 0 and len(_WORD.findall(text)) <= SHORT_LATIN_WORDS:
        return fallback  # "PUK", "ok", "eSIM?" in a Chinese conversation do not switch it to English
    return "zh" if cjk * 4 >= latin else "en"


def clean_text(text: str) -> str:
    """Drop control and zero-width characters (and U+FFFD, which stands for what could not be read) and collapse
    whitespace; keep everything a person typed."""
    visible = "".join(
        ch
        for ch in text
        if ch in "\n\t" or (unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != "\ufffd")
    )
    return _WHITESPACE.sub(" ", visible).strip()
