"""On PostgreSQL too: after an in-chat delete, a pg_dump of the database holds nothing of the customer."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bot.engine import Engine
from bot.messages import InboundMessage, OutboundMessage
from bot.outbox import Outbox
from bot.privacy import housekeeping, open_data_rights
from bot.runtime import Runtime
from bot.settings import Settings
from storage.conversations import ConversationLog
from storage.db import Database
from tests.conftest import POSTGRES_ADMIN_URL

PG_DUMP = "/usr/bin/pg_dump"


class Recorder:
    def __init__(self, sent: list[OutboundMessage]) -> None:
        self.sent = sent

    async def send(self, message: OutboundMessage) -> str | None:
        self.sent.append(message)
        return None


@pytest.fixture(scope="module")
def runtime(tmp_path_factory) -> Iterator[Runtime]:
    runtime = Runtime.open(Settings(data_dir=tmp_path_factory.mktemp("pg-privacy"), knowledge_recheck_seconds=0))
    yield runtime
    runtime.close()


@pytest.fixture
def postgres_url() -> Iterator[tuple[str, str]]:
    """A throwaway database of its own (its dump must hold only what this test wrote)."""
    name = f"warmdesk_privacy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}", name
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_after_an_in_chat_delete_a_postgres_dump_holds_nothing_of_the_customer(runtime, postgres_url):
    url, _name = postgres_url
    db = Database(url.replace("postgresql://", "postgresql+psycopg://", 1))
    db.migrate()
    settings = Settings(data_dir=runtime.settings.data_dir)
    delivered: list[OutboundMessage] = []
    engine = Engine(
        log=ConversationLog(db),
        knowledge=runtime.knowledge,
        embedder=runtime.embedder,
        tagger=runtime.tagger,
        outbox=Outbox(db, senders={"telegram": Recorder(delivered)}),
        texts=runtime.engine.texts,
    )
    engine.privacy = open_data_rights(settings, db, runtime.business, runtime.engine.texts)
    user, name, text = "pg-marker-user-5531", "Okapi Marchbanks", "my order marker-okapi-pg is missing"

    async def chat(said: str, message_id: str):
        message = InboundMessage("telegram", user, said, chat_id=user, message_id=message_id, display_name=name)
        return await engine.handle(message, queue_replies=True)

    async def conversation():
        await chat(text, "1")
        await chat("我的数据", "2")
        await chat("delete my data", "3")
        return await chat("yes", "4")

    receipt = asyncio.run(conversation())
    assert receipt.decision == "privacy_deleted"
    asyncio.run(engine.outbox.deliver_due())  # the receipt reaches the customer...
    assert [m.text for m in delivered][-1] == receipt.replies[0].text
    housekeeping.tidy(db, engine.privacy.store)  # ...and the server's housekeeping drops its platform id
    db.dispose()

    dump = subprocess.run([PG_DUMP, "--data-only", url], capture_output=True, text=True, check=True).stdout
    assert "deletion_receipt" in dump and receipt.replies[0].text.split("id ")[1][:12] in dump
    assert [marker for marker in (user, name, text) if marker in dump] == []
