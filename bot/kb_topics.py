"""What the bot can help with, read off the knowledge base: its most used tags, so a greeting names the
business's own topics whatever the KB is.

Tags are usually written in one language (English). In Chinese each tag is shown as the word that the Chinese
questions of its entries share most and the other entries' questions use least (for a "roaming" tag: 漫游);
a tag with no such word is shown as written.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter

from bot.texts import Texts
from knowledge.entry import FaqEntry
from knowledge.lexical import tokenize

_CJK_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,4}$")
_GENERIC = frozenset(
    {"怎么", "什么", "可以", "如何", "多少", "哪里", "是否", "需要", "没有", "我的", "你们", "一下", "能否"}
)


def top_tags(entries: list[FaqEntry], limit: int) -> list[str]:
    """The `limit` tags used by the most entries (ties: the one met first)."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for entry in entries:
        for tag in dict.fromkeys(t.strip() for t in entry.tags if t.strip()):
            counts[tag] += 1
            first.setdefault(tag, len(first))
    return sorted(counts, key=lambda tag: (-counts[tag], first[tag]))[:limit]


def chinese_label(tag: str, entries: list[FaqEntry]) -> str:
    """The Chinese word most typical of the tag's entries (see the module docstring); the tag when none is."""
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for entry in entries:
        # "#" marks a character bigram, not a word ("款吗" from "退款吗"): only whole jieba words can name a topic
        words = {w for q in entry.questions for w in tokenize(q) if not w.startswith("#")}
        words = {w for w in words if _CJK_WORD.match(w) and w not in _GENERIC}
        (inside if tag in entry.tags else outside).update(words)
    tagged = sum(1 for entry in entries if tag in entry.tags)
    others = max(1, len(entries) - tagged)
    best, best_score = tag, 0.0
    for word, count in inside.items():
        share = count / tagged
        score = share * math.log((others + 1) / (outside[word] + 1)) * (1 + 0.1 * len(word))
        if share >= 0.5 and score > best_score:
            best, best_score = word, score
    return best


class HelpTopics:
    """`topics(language)`: a ready list like "plans, roaming, billing" (cached until the KB's tags change).

    `fixed` holds the business's own wording per language (the business file's [business.<lang>] topics)."""

    def __init__(self, knowledge, texts: Texts, fixed: dict[str, str] | None = None, limit: int = 6) -> None:
        self._knowledge = knowledge  # knowledge.base.KnowledgeBase
        self._texts = texts
        self._fixed = {language: text for language, text in (fixed or {}).items() if text.strip()}
        self._limit = limit
        self._lock = threading.Lock()
        self._cache: tuple[tuple, dict[str, str]] | None = None

    def __call__(self, language: str) -> str:
        if language in self._fixed:
            return self._fixed[language]
        entries = self._knowledge.entries()
        key = tuple((entry.id, tuple(entry.tags)) for entry in entries)
        with self._lock:
            if self._cache is None or self._cache[0] != key:
                self._cache = (key, {})
            shown = self._cache[1]
            if language not in shown:
                shown[language] = self._render(entries, language)
            return shown[language]

    def _render(self, entries: list[FaqEntry], language: str) -> str:
        tags = top_tags(entries, self._limit)
        labels = tags
        if language == "zh":  # a tag without a Chinese word is left out rather than shown in English
            labels = [
                label for label in dict.fromkeys(chinese_label(tag, entries) for tag in tags) if _CJK_WORD.match(label)
            ]
        return self._texts.say("topics_separator", language).join(labels) or self._texts.say("topics_none", language)
