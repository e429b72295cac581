"""Which language to answer in: the language of the message's grammar, else of most of its words.

A product or place name in the other script ("how do I pay with 支付宝", "我的iPhone坏了") does not switch the
language: a message mixing both scripts is decided by its function words (的/了/吗/怎么…, the/how/can…) when
only one language has them, and by the share of each script otherwise."""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z]+")
_WORD_WITH_APOSTROPHE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
SHORT_LATIN_WORDS = 2
# Characters that carry Chinese grammar (particles, pronouns, question words) and rarely stand in a name.
_ZH_FUNCTION = re.compile(r"[的了吗呢吧么嘛啊呀哪怎谁您你我他她们这那没]")
_EN_FUNCTION = frozenset(
    (  # noqa: SIM905
        "i i'm you your my me we our the a an is are was were do does did can could how what when where why which "
        "who to of for with from in on at and or but it this that these please have has not no there be will would "
        "should about any if"
    ).split()
)


def detect_language(text: str, fallback: str = "en") -> str:
    """A Chinese character carries about a word, so a few of them outweigh several Latin letters. A message of
    one or two Latin words keeps the conversation's language (`fallback`)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return fallback
    words = _WORD.findall(text)
    if cjk == 0 and len(words) <= SHORT_LATIN_WORDS:
        return fallback  # "PUK", "ok", "eSIM?" in a Chinese conversation do not switch it to English
    if cjk and latin:
        zh_grammar = bool(_ZH_FUNCTION.search(text))
        en_grammar = any(word.lower() in _EN_FUNCTION for word in _WORD_WITH_APOSTROPHE.findall(text))
        if zh_grammar != en_grammar:
            return "zh" if zh_grammar else "en"
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
