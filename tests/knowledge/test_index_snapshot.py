"""A restart reads the index from its snapshot, and never misses a change another process made."""

from __future__ import annotations

from knowledge.base import KnowledgeBase, open_chroma_client
from knowledge.entry import FaqEntry


def open_kb(data_dir, embedder) -> KnowledgeBase:
    return KnowledgeBase(open_chroma_client(data_dir), embedder)


def test_restart_uses_the_snapshot_and_sees_edits_made_by_another_process(tmp_path, embedder, faq):
    first = open_kb(tmp_path, embedder)
    first.sync(faq)
    assert open_kb(tmp_path, embedder).entries() == first.entries()  # written by the first load
    snapshot = tmp_path / "chroma" / "faq.snapshot.npz"
    assert snapshot.exists()

    restarted = open_kb(tmp_path, embedder)
    assert sorted(e.id for e in restarted.entries()) == sorted(e.id for e in faq)

    editor = open_kb(tmp_path, embedder)  # e.g. `run.py kb ...` while the server runs
    edited = FaqEntry(faq[0].id, [*faq[0].questions, "a brand-new way to ask"], answer_en="changed")
    editor.upsert(edited)
    editor.remove(faq[1].id)

    after_edit = open_kb(tmp_path, embedder)
    assert after_edit.entry(faq[0].id).answer_en == "changed"
    assert after_edit.entry(faq[1].id) is None
    embedder.embedded.clear()
    report = after_edit.sync([edited, *faq[2:]])
    assert (report.added, report.updated, report.removed) == (0, 0, 0) and embedder.embedded == []


def test_a_restart_from_a_current_snapshot_answers_without_opening_chroma(tmp_path, embedder, faq):
    open_kb(tmp_path, embedder).sync(faq)
    open_kb(tmp_path, embedder)  # the first restart reads Chroma and writes the snapshot

    client = open_chroma_client(tmp_path)
    restarted = KnowledgeBase(client, embedder)
    assert restarted.search(faq[0].questions[0]).top == faq[0].id
    assert not client.opened  # importing and opening chromadb is a second of start-up

    restarted.upsert(FaqEntry("new", ["a new question"], answer="new answer"))
    assert client.opened
    assert open_kb(tmp_path, embedder).entry("new").answer == "new answer"


def test_a_damaged_snapshot_is_ignored(tmp_path, embedder, faq):
    open_kb(tmp_path, embedder).sync(faq)
    open_kb(tmp_path, embedder)
    (tmp_path / "chroma" / "faq.snapshot.npz").write_bytes(b"not a snapshot")

    assert sorted(e.id for e in open_kb(tmp_path, embedder).entries()) == sorted(e.id for e in faq)


def test_a_restart_reuses_the_fitted_search_state_until_the_knowledge_changes(tmp_path, embedder, faq, monkeypatch):
    first = open_kb(tmp_path, embedder)
    first.sync(faq)
    expected = first.search("how do I reset my password").top

    fits = []
    original = KnowledgeBase._fit_state
    monkeypatch.setattr(KnowledgeBase, "_fit_state", lambda self: fits.append(1) or original(self))

    assert open_kb(tmp_path, embedder).search("how do I reset my password").top == expected
    assert fits == []

    editor = open_kb(tmp_path, embedder)
    editor.upsert(FaqEntry("opening-hours", ["When are you open?", "营业时间"], answer="9-21"))
    assert open_kb(tmp_path, embedder).search("what are your opening hours").top == "opening-hours"
    assert fits
