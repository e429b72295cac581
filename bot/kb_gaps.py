"""The gap queue: what customers asked that the knowledge base could not answer, grouped by meaning and ranked by
how much it hurt.

Questions (storage/kb_gaps.py says which) are embedded with the bot's own encoder and grouped greedily: each joins
the first group whose first question is within SAME_MEANING (cosine) of it, in the same language. A group's rank:

    score = Σ over its questions of  recency × (1 + frustration)
    frustration = the emotion's intensity when it was negative (anger, anxiety, sadness)
                  + 1 when the question led to a handoff + 0.5 when the same customer asked it again
    recency = 0.5 ** (age in days / HALF_LIFE_DAYS)

so ten calm askers last week rank near three angry ones today. Each group shows its phrasings, channels,
languages and the entries nearest to it (the bot's own candidates for its most-asked phrasing).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from bot.emotion.base import NEGATIVE_LABELS
from knowledge.base import KnowledgeBase
from storage.kb_gaps import GapLog, GapQuestion
from storage.models import utcnow

SAME_MEANING = 0.86
HALF_LIFE_DAYS = 14.0
MAX_EXAMPLES = 5
MAX_SUGGESTED = 3
VECTOR_CACHE = 20_000


@dataclass(slots=True)
class GapCluster:
    questions: list[GapQuestion]
    score: float = 0.0
    examples: list[str] = field(default_factory=list)  # distinct phrasings, the most asked first
    channels: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    suggested: list[tuple[str, str, float]] = field(default_factory=list)  # (entry id, its title, confidence)

    @property
    def key(self) -> int:
        return min(q.message_id for q in self.questions)

    @property
    def message_ids(self) -> list[int]:
        return [q.message_id for q in self.questions]

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def customers(self) -> int:
        return len({q.customer_id for q in self.questions})

    @property
    def upset(self) -> int:
        return sum(q.emotion_label in NEGATIVE_LABELS for q in self.questions)

    @property
    def handoffs(self) -> int:
        return sum(q.handed_off for q in self.questions)

    @property
    def last_asked(self) -> datetime:
        return max(q.created_at for q in self.questions)

    @property
    def language(self) -> str:
        return self.languages[0] if self.languages else "en"


class GapQueue:
    def __init__(self, log: GapLog, embedder, knowledge: KnowledgeBase) -> None:
        self.log, self._embedder, self._knowledge = log, embedder, knowledge
        self._vectors: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def clusters(self, now: datetime | None = None, limit: int = 50) -> list[GapCluster]:
        now = now or utcnow()
        questions = self.log.questions(now=now)
        vectors = self._vectors_of(questions)
        repeats = Counter((q.customer_id, _key(q.text)) for q in questions)
        weights = {q.message_id: _weight(q, now, repeats[(q.customer_id, _key(q.text))] > 1) for q in questions}
        groups: list[tuple[np.ndarray, str, list[GapQuestion]]] = []
        for question in sorted(questions, key=lambda q: -weights[q.message_id]):
            vector = vectors[question.message_id]
            home = next((g for g in groups if g[1] == question.language and float(g[0] @ vector) >= SAME_MEANING), None)
            if home is None:
                groups.append((vector, question.language, [question]))
            else:
                home[2].append(question)
        clusters = [self._describe(members, weights) for _, _, members in groups]
        clusters.sort(key=lambda c: (-c.score, -c.count, c.key))
        for cluster in clusters[:limit]:
            self._suggest(cluster)
        return clusters[:limit]

    def cluster(self, key: int) -> GapCluster | None:
        return next((c for c in self.clusters(limit=10_000) if c.key == key), None)

    def _vectors_of(self, questions: list[GapQuestion]) -> dict[int, np.ndarray]:
        with self._lock:
            missing = [q for q in questions if q.message_id not in self._vectors]
            if missing:
                if len(self._vectors) + len(missing) > VECTOR_CACHE:
                    self._vectors.clear()
                    missing = questions
                for question, vector in zip(missing, self._embedder.queries([q.text for q in missing]), strict=True):
                    self._vectors[question.message_id] = vector
            return {q.message_id: self._vectors[q.message_id] for q in questions}

    def _describe(self, members: list[GapQuestion], weights: dict[int, float]) -> GapCluster:
        phrasings = Counter(q.text.strip() for q in members)
        return GapCluster(
            questions=members,
            score=round(sum(weights[q.message_id] for q in members), 3),
            examples=[text for text, _ in phrasings.most_common(MAX_EXAMPLES)],
            channels=[name for name, _ in Counter(q.channel for q in members).most_common()],
            languages=[name for name, _ in Counter(q.language for q in members).most_common()],
        )

    def _suggest(self, cluster: GapCluster) -> None:
        result = self._knowledge.search(cluster.examples[0])
        for candidate in result.candidates[:MAX_SUGGESTED]:
            entry = self._knowledge.entry(candidate.faq_id)
            if entry is not None:
                cluster.suggested.append((entry.id, entry.title(cluster.language), round(candidate.score, 2)))


def frustration(question: GapQuestion, repeated: bool) -> float:
    upset = question.emotion_intensity if question.emotion_label in NEGATIVE_LABELS else 0.0
    return upset + (1.0 if question.handed_off else 0.0) + (0.5 if repeated else 0.0)


def _weight(question: GapQuestion, now: datetime, repeated: bool) -> float:
    asked = question.created_at if question.created_at.tzinfo else question.created_at.replace(tzinfo=now.tzinfo)
    age_days = max(0.0, (now - asked).total_seconds() / 86400)
    return 0.5 ** (age_days / HALF_LIFE_DAYS) * (1.0 + frustration(question, repeated))


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())
