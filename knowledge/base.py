"""KnowledgeBase: the FAQ index the engine searches (Chroma for persistence, numpy for scoring)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from knowledge.calibration import AnswerRule, MarginRule, fit_answer_rule, fit_margin_rule
from knowledge.decision import Candidate, Retrieval, RetrievalSettings, decide
from knowledge.elsewhere import BACKGROUND_ID, Background
from knowledge.entry import FaqEntry
from knowledge.lexical import TOKENIZER_VERSION, tokenize
from knowledge.ranking import EntryScores, Ranker
from knowledge.state_cache import StateCache
from knowledge.vector_index import (
    ChromaQuestionStore,
    IndexedEntry,
    ephemeral_chroma_client,
    open_chroma_client,
    unique_collection_name,
)

__all__ = [
    "Candidate",
    "KnowledgeBase",
    "Retrieval",
    "RetrievalSettings",
    "SyncReport",
    "open_chroma_client",
]

ProgressCallback = Callable[[int, int], None]  # (entries embedded so far, entries to embed)
_EMBED_BATCH = 64
_BACKGROUND_BATCH = 32  # entries per step of a background sync: one Chroma write each, made between chat messages


@dataclass(frozen=True, slots=True)
class _SearchState:
    entry_ids: list[str]
    ranker: Ranker
    rule: AnswerRule | MarginRule | None
    background: Background | None = None


@dataclass(slots=True)
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    questions_embedded: int = 0
    skipped: int = 0  # entries without any question cannot be searched and are left out

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class KnowledgeBase:
    """Entries + their question vectors, kept equal to Chroma; searches are pure numpy.

    Questions are embedded with the "query:" prefix (what searches compare against). While the KB is in the
    size range that trains a classifier, each question also gets a "passage:" view, kept in a second
    collection: extra training points for the classifier, never compared against at search time.
    """

    def __init__(self, client, embedder, settings: RetrievalSettings | None = None, collection: str = "faq") -> None:
        self.settings = settings or RetrievalSettings()
        self._embedder = embedder
        self._store = ChromaQuestionStore(client, collection, _stored_tokenizer_version())
        self._passage_store = ChromaQuestionStore(client, f"{collection}-passage", _stored_tokenizer_version())
        self._lock = threading.Lock()
        self._imports, self._imports_lock = 0, threading.Lock()
        self._serving_entries: list[FaqEntry] | None = None  # set while a `keep_serving` sync changes the index
        self._indexed: dict[str, IndexedEntry] = self._store.load()
        self._store.forget_unreadable(set(self._indexed))
        self._passages: dict[str, IndexedEntry] = {
            faq_id: item
            for faq_id, item in self._passage_store.load().items()
            if faq_id in self._indexed and item.content_hash == self._indexed[faq_id].content_hash
        }
        self._passage_store.forget_unreadable(set(self._passages))
        self._background_store = ChromaQuestionStore(client, f"{collection}-elsewhere", _stored_tokenizer_version())
        self._background: IndexedEntry | None = self._background_store.load().get(BACKGROUND_ID)
        self._retokenize_stale()
        self._ranker: _SearchState | None = None
        self._state_cache = StateCache(client, collection)

    @classmethod
    def in_memory(
        cls,
        entries: list[FaqEntry],
        embedder,
        settings: RetrievalSettings | None = None,
        background: Sequence[str] = (),
    ) -> KnowledgeBase:
        """A throwaway KB (for `kb ask --batch --kb FILE` and benchmarks); same ranking as the server when given
        the server's `background` (see `set_background`)."""
        kb = cls(ephemeral_chroma_client(), embedder, settings, collection=unique_collection_name())
        kb.set_background(background)
        kb.sync(entries)
        return kb

    def set_background(self, questions: Sequence[str]) -> None:
        """The "elsewhere" questions (knowledge/elsewhere.py) searches compare against; none turns that off. They
        are embedded once and kept in Chroma with the index: a restart embeds nothing, an edit only what changed."""
        wanted = list(dict.fromkeys(question.strip() for question in questions if question.strip()))
        entry = FaqEntry(BACKGROUND_ID, wanted)
        with self._lock:
            current = self._background
            if (current.content_hash if current else None) == (_stored_hash(entry) if wanted else None):
                return
            if not wanted:
                self._background_store.delete([BACKGROUND_ID])
                self._background = None
            else:
                known = {BACKGROUND_ID: current} if current else {}
                vectors, _ = _vectors_reusing([entry], known, _Job(self._embedder).questions)
                item = IndexedEntry(entry, _stored_hash(entry), vectors[0], [[] for _ in wanted])
                self._background_store.put([item])
                self._background = item
            self._ranker = None

    # --- contents -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._indexed)

    def entry(self, faq_id: str) -> FaqEntry | None:
        indexed = self._indexed.get(faq_id)
        return indexed.entry if indexed else None

    def entries(self) -> list[FaqEntry]:
        """The entries searches answer from: during a `keep_serving` sync, those of the index still serving."""
        serving = self._serving_entries
        return list(serving) if serving is not None else [indexed.entry for indexed in self._indexed.values()]

    def question_tokens(self, faq_id: str) -> list[list[str]] | None:
        """The tokenizer's output for each question of an entry, as stored with its vectors (no re-tokenising)."""
        indexed = self._indexed.get(faq_id)
        return indexed.tokens if indexed else None

    def sync(
        self,
        entries: Iterable[FaqEntry],
        progress: ProgressCallback | None = None,
        keep_serving: bool = False,
        background: bool = False,
    ) -> SyncReport:
        """Make the index hold exactly `entries`, embedding only new or changed ones. With `keep_serving` (a big
        import while customers chat) the new ranking state is built here, and searches use the old one until it
        is ready, instead of the next search building it. With `background` (a job's own thread, never inside a
        chat message) the work goes in small steps that give way to chat messages (knowledge/priority.py)."""
        job = _Job(self._embedder, background)
        report = SyncReport()
        wanted: dict[str, FaqEntry] = {}
        for entry in entries:
            if any(q.strip() for q in entry.questions):
                wanted[entry.id] = entry
            else:
                report.skipped += 1
        with self._lock:
            if keep_serving and self._ranker is not None:
                self._serving_entries = [indexed.entry for indexed in self._indexed.values()]
            try:
                return self._sync_locked(wanted, report, job, progress, keep_serving)
            finally:
                self._serving_entries = None

    def _sync_locked(
        self,
        wanted: dict[str, FaqEntry],
        report: SyncReport,
        job: _Job,
        progress: ProgressCallback | None,
        keep_serving: bool,
    ) -> SyncReport:
        changed = []
        for faq_id, entry in wanted.items():
            current = self._indexed.get(faq_id)
            if current is None:
                report.added += 1
                changed.append(entry)
            elif current.content_hash != _stored_hash(entry):
                report.updated += 1
                changed.append(entry)
            else:
                report.unchanged += 1
        removed = [faq_id for faq_id in self._indexed if faq_id not in wanted]
        report.removed = len(removed)
        if removed:
            self._store.delete(removed, job.turn)
            self._forget_passages(removed, job)
            for faq_id in removed:
                del self._indexed[faq_id]
        with_passages = self._wants_passages(wanted.values())
        for start in range(0, len(changed), job.batch):
            batch = changed[start : start + job.batch]
            report.questions_embedded += self._index(batch, with_passages, job)
            if progress:
                progress(min(start + job.batch, len(changed)), len(changed))
        passages_added = False
        if with_passages:
            missing = [item.entry for faq_id, item in self._indexed.items() if faq_id not in self._passages]
            if missing:  # an index from before passage views, or a KB that just became small enough
                report.questions_embedded += self._index_passages(missing, job)
                passages_added = True
        if report.changed or passages_added:  # with `keep_serving` searches never find it None meanwhile
            self._ranker = self._build_state() if keep_serving else None
        return report

    @contextlib.contextmanager
    def import_in_progress(self) -> Iterator[None]:
        """Held by an import job while it saves entries it will sync itself afterwards: the refresher that watches
        the database leaves them to it instead of embedding each half-saved state of the file."""
        with self._imports_lock:  # not `_lock`: a sync may hold that for minutes
            self._imports += 1
        try:
            yield
        finally:
            with self._imports_lock:
                self._imports -= 1

    @property
    def importing(self) -> bool:
        return bool(self._imports)

    def upsert(self, entry: FaqEntry) -> None:
        if not any(q.strip() for q in entry.questions):
            raise ValueError(f"FAQ entry {entry.id!r} has no questions")
        with self._lock:
            current = self._indexed.get(entry.id)
            if current is not None and current.content_hash == _stored_hash(entry):
                return
            entries = [*(item.entry for faq_id, item in self._indexed.items() if faq_id != entry.id), entry]
            self._index([entry], self._wants_passages(entries))
            self._ranker = None

    def remove(self, faq_id: str) -> None:
        with self._lock:
            if self._indexed.pop(faq_id, None) is not None:
                self._store.delete([faq_id])
                self._forget_passages([faq_id])
                self._ranker = None

    def preview(self, changed: FaqEntry | None = None, removed: str | None = None) -> KnowledgeBase:
        """A throwaway copy with one entry changed or removed, reusing every other vector: what searches would
        find after a save, before it is made (the KB editor's regression-test warning)."""
        copy = KnowledgeBase(
            ephemeral_chroma_client(), self._embedder, self.settings, collection=unique_collection_name()
        )
        with self._lock:
            copy._indexed, copy._passages = dict(self._indexed), dict(self._passages)
        if removed is not None:
            copy._indexed.pop(removed, None)
            copy._passages.pop(removed, None)
        if changed is not None and any(q.strip() for q in changed.questions):
            copy.upsert(changed)
        return copy

    # --- search -------------------------------------------------------------------------------------

    def search(self, text: str, query_vector: np.ndarray | None = None, exclude: Iterable[str] = ()) -> Retrieval:
        """`exclude`: entries that cannot be the answer ("what if I downgrade instead" right after the
        cancelling answer); the others are ranked and decided on as if those were not in the KB."""
        state = self._current_state()
        if not state.entry_ids:
            return Retrieval.nothing()
        if query_vector is None:
            query_vector = self._embedder.query(text or "")
        scores = state.ranker.score(tokenize(text or ""), query_vector)
        lead = None  # how much nearer the "elsewhere" background than the whole KB (before any exclusion)
        if state.background is not None and scores.question_dots is not None:
            lead = state.background.lead(query_vector, scores.question_dots)
        if excluded := [i for i, faq_id in enumerate(state.entry_ids) if faq_id in set(exclude)]:
            if len(excluded) >= len(state.entry_ids):
                return Retrieval.nothing()
            scores = _without(scores, excluded)
        return decide(scores, state.entry_ids, self.settings, state.rule, lead)

    def warm_up(self) -> None:
        """Build the ranking state now (it is otherwise built by the first search after a change)."""
        self._current_state()

    def _current_ranker(self) -> tuple[list[str], Ranker]:
        """(entry ids, ranker) of the current KB version; for benchmarks."""
        state = self._current_state()
        return state.entry_ids, state.ranker

    def _current_state(self) -> _SearchState:
        state = self._ranker
        if state is None:
            with self._lock:
                if self._ranker is None:
                    self._ranker = self._build_state()
                state = self._ranker
        return state

    def _build_state(self) -> _SearchState:
        key = self._state_cache.key(self._state_contents(), (self.settings, self._embedder.dim))
        state = self._state_cache.load(key)
        if state is None:
            state = self._fit_state()
            self._state_cache.save(key, state)
        return state

    def _state_contents(self) -> Iterable[str]:
        for faq_id, item in self._indexed.items():
            passage = self._passages.get(faq_id)
            yield f"{faq_id}\t{item.content_hash}\t{passage.content_hash if passage else '-'}"
        background = self._background
        yield f"{BACKGROUND_ID}\t{background.content_hash if background else '-'}"

    def _fit_state(self) -> _SearchState:
        indexed = list(self._indexed.values())
        entry_ids = [item.entry.id for item in indexed]
        counts = [len(item.entry.questions) for item in indexed]
        owner = np.repeat(np.arange(len(indexed)), counts)
        dim = self._embedder.dim
        vectors = np.concatenate([item.vectors for item in indexed]) if indexed else np.zeros((0, dim), np.float32)
        passages = np.full_like(vectors, np.nan)
        starts = np.cumsum([0, *counts])[:-1]
        for start, item in zip(starts, indexed, strict=True):
            passage = self._passages.get(item.entry.id)
            if passage is not None and passage.content_hash == item.content_hash:
                passages[start : start + len(passage.vectors)] = passage.vectors
        tokens = [question_tokens for item in indexed for question_tokens in item.tokens]
        weights = self.settings.ranking_weights()
        ranker = Ranker(vectors, tokens, owner, len(indexed), weights, passages)
        rule: AnswerRule | MarginRule | None = None
        if ranker.has_classifier:
            rule = fit_answer_rule(vectors, tokens, owner, len(indexed), weights, passages)
        else:
            rule = fit_margin_rule(ranker, vectors, tokens, owner, self.settings.max_clarify_candidates)
        background = Background.fit(vectors, self._background.vectors) if self._background is not None else None
        return _SearchState(entry_ids, ranker, rule, background)

    # --- indexing -----------------------------------------------------------------------------------

    def _index(self, entries: list[FaqEntry], with_passages: bool, job: _Job | None = None) -> int:
        """Embed and store `entries`; a question whose text did not change keeps its vector."""
        job = job or _Job(self._embedder)
        all_vectors, embedded = _vectors_reusing(entries, self._indexed, job.questions)
        items = [
            IndexedEntry(_copy(entry), _stored_hash(entry), vectors, [tokenize(q) for q in entry.questions])
            for entry, vectors in zip(entries, all_vectors, strict=True)
        ]
        self._store.put(items, job.turn)
        for item in items:
            self._indexed[item.entry.id] = item
        if with_passages:
            return embedded + self._index_passages(entries, job)
        self._forget_passages([entry.id for entry in entries], job)
        return embedded

    def _wants_passages(self, entries: Iterable[FaqEntry]) -> bool:
        entries = list(entries)
        n_questions = sum(len(entry.questions) for entry in entries)
        return self.settings.ranking_weights().wants_classifier(n_questions, len(entries))

    def _index_passages(self, entries: list[FaqEntry], job: _Job | None = None) -> int:
        """Embed and store the "passage:" view of `entries` (already in the main index)."""
        job = job or _Job(self._embedder)
        all_vectors, embedded = _vectors_reusing(entries, self._passages, job.passages)
        items = []
        for entry, vectors in zip(entries, all_vectors, strict=True):
            indexed = self._indexed[entry.id]
            items.append(IndexedEntry(indexed.entry, indexed.content_hash, vectors, indexed.tokens))
        self._passage_store.put(items, job.turn)
        for item in items:
            self._passages[item.entry.id] = item
        return embedded

    def _forget_passages(self, faq_ids: list[str], job: _Job | None = None) -> None:
        gone = [faq_id for faq_id in faq_ids if self._passages.pop(faq_id, None) is not None]
        if gone:
            self._passage_store.delete(gone, job.turn if job else None)

    def _retokenize_stale(self) -> None:
        for item in self._indexed.values():
            if item.tokens is None:
                item.tokens = [tokenize(q) for q in item.entry.questions]


def _without(scores: EntryScores, positions: list[int]) -> EntryScores:
    """The scores with some entries ranked last and given no share of the classifier's probability."""
    fused, similarity, lexical = scores.fused.copy(), scores.similarity.copy(), scores.lexical.copy()
    fused[positions] = float(fused.min()) - 1e3
    similarity[positions], lexical[positions] = 0.0, 0.0
    logits, probability = scores.logits, scores.probability
    if logits is not None and probability is not None:
        logits, probability = logits.copy(), probability.copy()
        logits[positions] = float(logits.min()) - 50.0
        probability[positions] = 0.0
        probability = probability / max(float(probability.sum()), 1e-12)
    return replace(scores, fused=fused, similarity=similarity, lexical=lexical, logits=logits, probability=probability)


class _Job:
    """How one sync embeds and writes: at once, or (`background`) in steps that give way to chat messages, through
    the embedder's bulk methods and its priority gate when it has them."""

    def __init__(self, embedder, background: bool = False) -> None:
        gate = getattr(embedder, "gate", None) if background else None
        self._queries = getattr(embedder, "bulk_queries", embedder.queries) if background else embedder.queries
        self._passages = getattr(embedder, "bulk_passages", embedder.passages) if background else embedder.passages
        self.turn: Callable[[], object] | None = gate.background_turn if gate is not None else None
        self.batch = _BACKGROUND_BATCH if background else _EMBED_BATCH

    def questions(self, questions: list[str]) -> list[np.ndarray]:
        # KB questions are embedded like customer text ("query:" prefix): FAQ matching is question-to-question,
        # the symmetric case e5 recommends the query prefix for; it also scored better on the dev sets.
        return list(self._queries(questions)) if questions else []

    def passages(self, questions: list[str]) -> list[np.ndarray]:
        return list(self._passages(questions)) if questions else []


def _stored_hash(entry: FaqEntry) -> str:
    return f"q1:{entry.content_hash()}"


def _stored_tokenizer_version() -> str:
    return TOKENIZER_VERSION


def _copy(entry: FaqEntry) -> FaqEntry:
    return FaqEntry(entry.id, list(entry.questions), entry.answer, entry.answer_zh, entry.answer_en, list(entry.tags))


def _vectors_reusing(
    entries: list[FaqEntry], known: dict[str, IndexedEntry], embed: Callable[[list[str]], np.ndarray]
) -> tuple[list[np.ndarray], int]:
    """Each entry's question vectors, reusing those of questions whose text did not change; and how many
    distinct texts had to be embedded."""
    reusable = {}
    for entry in entries:
        current = known.get(entry.id)
        reusable[entry.id] = dict(zip(current.entry.questions, current.vectors, strict=True)) if current else {}
    unique = list(dict.fromkeys(q for e in entries for q in e.questions if q not in reusable[e.id]))
    fresh = dict(zip(unique, embed(unique), strict=True))
    vectors = [np.stack([reusable[e.id].get(q, fresh.get(q)) for q in e.questions]) for e in entries]
    return vectors, len(unique)
