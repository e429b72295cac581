"""The words around a question that say how it relates to the conversation, from the business file's [context].

- lead_in ("quick question", "请问") and resolved ("that worked", "登上了") phrases, and the [social] greetings,
  thanks and acknowledgements ("ok", "好的", set apart by a space or a comma in Chinese), only introduce the
  question at the start of a message: the knowledge base is searched without them (one embedding of the rest,
  none extra). new_topic ("also", "顺便") and resolved phrases say the previous question is done with: the
  message is searched alone (new_topic phrases stay in the searched text).
- refers_back ("it", "它"): the message points at the previous question ("when does it stop?").
- instead ("instead", "要是不"): the customer asks for an alternative to what they were just told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.social import token_spans, tokens


def _keys(phrases: dict[str, list[str]] | list[str]) -> list[tuple[str, ...]]:
    items = [p for group in phrases.values() for p in group] if isinstance(phrases, dict) else list(phrases)
    return sorted({key for phrase in items if (key := tuple(tokens(phrase)))}, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Question:
    text: str  # what is searched: the message without its lead-in
    new_topic: bool = False  # a lead-in said the previous question is done with
    refers_back: bool = False
    instead: bool = False


class ContextWords:
    def __init__(
        self,
        *,
        lead_in: dict[str, list[str]] | list[str] = (),
        new_topic: dict[str, list[str]] | list[str] = (),
        resolved: dict[str, list[str]] | list[str] = (),
        refers_back: dict[str, list[str]] | list[str] = (),
        instead: dict[str, list[str]] | list[str] = (),
        social: list[str] = (),
    ) -> None:
        self._new_topic = set(_keys(new_topic))
        self._opening = self._new_topic | set(_keys(resolved))
        free = set(_keys(lead_in)) | self._opening
        # acknowledgements: "好 我想问" but not "好贵", "可以 ..." not "可以退吗"
        self._apart = set(_keys(social)) - free
        self._leading = sorted(free | self._apart, key=len, reverse=True)
        self._refers_back = _keys(refers_back)
        self._instead = _keys(instead)

    def read(self, text: str) -> Question:
        spans = token_spans(text)
        words = [span.group(0) for span in spans]
        position, opens, kept = 0, False, None
        while position < len(words) - 1:
            key = next((k for k in self._leading if self._leads(words, spans, position, k)), None)
            if key is None:
                break
            opens = opens or key in self._opening
            if key in self._new_topic and kept is None:
                kept = position
            position += len(key)
        rest = words[position:] if position < len(words) else words
        # A topic switch is searched with its words: "unrelated but…" / "对了…" before a question the KB does not
        # cover keeps it off the KB, and without them in-scope switches were matched no better (conversation bench).
        start = position if kept is None else kept
        question = text[spans[start].start() :].strip() if 0 < start < len(words) else text
        return Question(question, opens, _contains(rest, self._refers_back), _contains(rest, self._instead))

    def _leads(self, words: list[str], spans: list[re.Match[str]], position: int, key: tuple[str, ...]) -> bool:
        end = position + len(key)
        if tuple(words[position:end]) != key or end >= len(words):
            return False
        if key not in self._apart or key[-1].isascii():
            return True
        return spans[end - 1].end() < spans[end].start()  # a Chinese acknowledgement is set apart from the question


def _contains(words: list[str], keys: list[tuple[str, ...]]) -> bool:
    return any(tuple(words[i : i + len(key)]) == key for key in keys for i in range(len(words) - len(key) + 1))
