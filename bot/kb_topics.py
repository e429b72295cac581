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
from collections.abc import Callable

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


def topic_words(questions: list[str], tokens: list[list[str]] | None = None) -> frozenset[str]:
    """The words of an entry's questions that could name a topic (`tokens`: their tokenizer output, if known)."""
    tokens = tokens if tokens is not None and len(tokens) == len(questions) else [tokenize(q) for q in questions]
    # "#" marks a character bigram, not a word ("款吗" from "退款吗"): only whole jieba words can name a topic
    return frozenset(
        w for words in tokens for w in words if not w.startswith("#") and _CJK_WORD.match(w) and w not in _GENERIC
    )


def chinese_label(
    tag: str, entries: list[FaqEntry], words_of: Callable[[FaqEntry], frozenset[str]] | None = None
) -> str:
    """The Chinese word most typical of the tag's entries (see the module docstring); the tag when none is."""
    words_of = words_of or (lambda entry: topic_words(entry.questions))
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for entry in entries:
        (inside if tag in entry.tags else outside).update(words_of(entry))
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
        # Per entry, kept across KB changes: a 20,000-entry KB is not re-tokenised (seconds of a customer's
        # reply, measured during an import) each time a few entries change; the KB's stored tokens are reused.
        self._words: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}

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
            words = {entry.id: self._words_of(entry) for entry in entries} if tags else {}
            self._words = {faq_id: self._words[faq_id] for faq_id in words}
            labels = [
                label
                for label in dict.fromkeys(chinese_label(tag, entries, lambda e: words[e.id]) for tag in tags)
                if _CJK_WORD.match(label)
            ]
        return self._texts.say("topics_separator", language).join(labels) or self._texts.say("topics_none", language)

    def _words_of(self, entry: FaqEntry) -> frozenset[str]:
        questions = tuple(entry.questions)
        known = self._words.get(entry.id)
        if known is None or known[0] != questions:
            stored = getattr(self._knowledge, "question_tokens", None)
            known = (questions, topic_words(entry.questions, stored(entry.id) if stored else None))
            self._words[entry.id] = known
        return known[1]
