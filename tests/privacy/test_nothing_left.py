"""The target: after an in-chat delete on each channel, and after a retention purge, with the server still
running, the customer's texts, name and identifiers are found nowhere: not in the SQLite file or its WAL, the
Chroma directory, the server's log (every line a default deployment writes), the bot's own posts in Slack, or a
PostgreSQL dump."""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.engine import Engine
from bot.messages import InboundMessage, OutboundMessage
from bot.outbox import Outbox
from bot.privacy import housekeeping, open_data_rights
from bot.privacy.retention import purge_expired
from bot.settings import Settings
from bot.texts import DEFAULT_TEXTS
from storage.conversations import ConversationLog
from storage.db import Database
from storage.models import AuditLog, Customer, Message, OutboxMessage, utcnow
from tests.conftest import POSTGRES_ADMIN_URL
from tests.privacy.channels import TelegramCustomer, WebCustomer, WeChatCustomer
from tests.privacy.helpers import SLACK_CHANNEL, files_holding, wait_until

say = DEFAULT_TEXTS.say
RECEIPT = re.compile(r"D-[0-9A-F]{10}")
NAME = "Zebrafinch Quillworth"
EMAIL = "zq.marker@example.com"
PHONE = "+86 138 5550 7731"


def left_behind(markers: list[str], places, slack_api) -> dict[str, list[str]]:
    found = files_holding(markers, places)
    for (_channel, ts), message in list(slack_api.messages.items()):
        for marker in markers:
            if marker in message["text"]:
                found.setdefault(marker, []).append(f"slack {ts} by {message['user']}")
    return found


def outbox_rows_for(runtime, users: list[str]) -> list[OutboxMessage]:
    with runtime.db.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.platform_user_id.in_(users))).all())


def test_after_an_in_chat_delete_on_every_channel_nothing_of_the_customers_is_left(
    server, runtime, fake_telegram, fake_wechat, slack_api, data_dir, log_file
):
    web = WebCustomer(server.url, runtime, "en", notice_version="2026-12-01")
    telegram = TelegramCustomer(server.url, runtime, "en", fake_telegram)
    wechat = WeChatCustomer(server.url, runtime, "zh", fake_wechat)
    said = {
        "web": "my parcel marker-pumpkin-web never came",
        "telegram": "where is marker-pumpkin-tg please",
        "wechat": "我的快递 marker-pumpkin-wx 没到",
    }
    # Web chat: a message, staff details on the record, a note, a staff lookup, an export link, a mailbox poll.
    web.say(said["web"])
    customer_id = web.customer_id()
    with runtime.db.session() as db_session:
        customer = db_session.get(Customer, customer_id)
        customer.display_name, customer.email, customer.phone = NAME, EMAIL, PHONE
        db_session.add(customer)
    runtime.customers.add_note(customer_id, "staff:bob", f"{NAME} called about marker-pumpkin-web")
    assert set(files_holding([said["web"], NAME], [data_dir])) == {said["web"], NAME}  # the grep does find them
    runtime.customers.audit("slack:U1", "customer.lookup", f"customer:{customer_id}", {"query": PHONE})
    web.say("my data")
    web.say("delete my data")
    assert RECEIPT.search(web.say("yes")[0])

    # Telegram: a link code, then a handoff to the Slack desk (the code issued while waiting for an agent must go
    # too), a message mirrored into the card's thread and a person's reply there.
    for text in (said["telegram"], "link", "human", "link"):
        telegram.say(text)
    card = wait_until(lambda: [ts for (_, ts), m in slack_api.messages.items() if said["telegram"] in m["text"]])
    telegram.say("marker-pumpkin-tg again, still waiting")
    wait_until(lambda: [m for m in slack_api.messages.values() if "still waiting" in m["text"]], what="the mirror")
    person = slack_api.person_replies(SLACK_CHANNEL, card[0], "On it, marker-agent-typed")
    telegram.say("delete my data")
    receipt = telegram.say("yes")[0]
    assert RECEIPT.search(receipt)
    assert "messages about you that we had posted for our team in Slack are deleted too" in receipt
    assert receipt.endswith(say("privacy_copies_kept", "en").replace("{count}", "1"))
    assert [ts for (_, ts) in slack_api.messages if ts in (card[0], person)] == [person]  # what a person typed

    # WeChat: a message, the confirmation, the yes.
    wechat.say(said["wechat"])
    wechat.say("删除我的数据")
    assert RECEIPT.search(wechat.say("是")[0])

    markers = [*said.values(), NAME, EMAIL, PHONE, telegram.user, wechat.user, web.user]
    places = [data_dir, log_file]
    try:
        wait_until(lambda: not left_behind(markers, places, slack_api), what="the receipts to be scrubbed")
    except AssertionError:
        raise AssertionError(f"left behind: {left_behind(markers, places, slack_api)}") from None
    assert outbox_rows_for(runtime, [web.user, telegram.user, wechat.user]) == []
    assert (data_dir / "warmdesk.db-wal").exists() and (data_dir / "chroma").is_dir()  # still running
    logged = log_file.read_text(encoding="utf-8")
    assert "POST /wechat?[redacted]" in logged and "POST /telegram/webhook" in logged
    assert "signature=" not in logged and "nonce=" not in logged
    with runtime.db.session() as db_session:
        lookups = db_session.exec(select(AuditLog).where(AuditLog.action == "customer.lookup")).all()
    assert [line.detail for line in lookups if line.target == f"customer:{customer_id}"] == [None]


def test_after_a_retention_purge_nothing_of_the_expired_messages_is_left(
    server, runtime, fake_telegram, fake_wechat, slack_api, data_dir, log_file
):
    gone = [
        WebCustomer(server.url, runtime, "en"),
        TelegramCustomer(server.url, runtime, "zh", fake_telegram),
        WeChatCustomer(server.url, runtime, "zh", fake_wechat),
    ]
    stays = WebCustomer(server.url, runtime, "en")
    for number, customer in enumerate(gone):
        customer.say(f"my old question marker-expired-{number}")
    stays.say("an old question marker-expired-active")
    long_ago = utcnow() - timedelta(days=40)
    ids = {customer.user: customer.customer_id() for customer in (*gone, stays)}
    with runtime.db.session() as session:
        for customer in gone:
            session.exec(update(Customer).where(Customer.id == ids[customer.user]).values(last_seen_at=long_ago))
        for user, customer_id in ids.items():
            session.exec(update(Message).where(Message.customer_id == customer_id).values(created_at=long_ago))
            outbox = update(OutboxMessage).where(OutboxMessage.platform_user_id == user)
            session.exec(outbox.values(created_at=long_ago))
    stays.say("a new question marker-recent-active")

    run = purge_expired(runtime.db, utcnow(), days=30)

    assert run.customers_deleted >= 3 and [c.customer_id() for c in gone] == [None, None, None]
    assert stays.customer_id() is not None
    markers = [f"marker-expired-{n}" for n in range(3)] + ["marker-expired-active"] + [c.user for c in gone]
    assert left_behind(markers, [data_dir, log_file], slack_api) == {}
    assert list(files_holding(["marker-recent-active"], [data_dir])) == ["marker-recent-active"]
    assert f"retention purge (older than {run.cutoff:%Y-%m-%d %H:%M})" in log_file.read_text(encoding="utf-8")


# -- and on PostgreSQL: a pg_dump after an in-chat delete and after a retention purge -----------------------------

PG_DUMP = "/usr/bin/pg_dump"


class Recorder:
    def __init__(self, sent: list[OutboundMessage]) -> None:
        self.sent = sent

    async def send(self, message: OutboundMessage) -> str | None:
        self.sent.append(message)
        return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database of its own (its dump must hold only what this test wrote)."""
    name = f"warmdesk_privacy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_postgres_dump_holds_nothing_of_a_deleted_or_purged_customer(runtime, postgres_url):
    db = Database(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    db.migrate()
    delivered: list[OutboundMessage] = []
    engine = Engine(
        log=ConversationLog(db),
        knowledge=runtime.knowledge,
        embedder=runtime.embedder,
        tagger=runtime.tagger,
        outbox=Outbox(db, senders={"telegram": Recorder(delivered)}),
        texts=runtime.engine.texts,
    )
    engine.privacy = open_data_rights(Settings(data_dir=runtime.settings.data_dir), db, runtime.business, engine.texts)
    user, name, text = "pg-marker-user-5531", "Okapi Marchbanks", "my order marker-okapi-pg is missing"
    old_user, old_text = "pg-marker-old-7713", "my old order marker-okapi-old"

    async def chat(who: str, said: str, message_id: str):
        message = InboundMessage("telegram", who, said, chat_id=who, message_id=message_id, display_name=name)
        return await engine.handle(message, queue_replies=True)

    async def conversation():
        await chat(old_user, old_text, "0")
        await chat(user, text, "1")
        await chat(user, "我的数据", "2")
        await chat(user, "delete my data", "3")
        return await chat(user, "yes", "4")

    receipt = asyncio.run(conversation())
    assert receipt.decision == "privacy_deleted"
    asyncio.run(engine.outbox.deliver_due())  # the receipt reaches the customer...
    assert [m.text for m in delivered if m.chat_id == user][-1] == receipt.replies[0].text  # in order per chat
    housekeeping.tidy(db, engine.privacy.store)  # ...and the server's housekeeping drops its platform id
    with db.session() as session:
        session.exec(update(Message).values(created_at=utcnow() - timedelta(days=40)))
        session.exec(update(OutboxMessage).values(created_at=utcnow() - timedelta(days=40)))
        session.exec(update(Customer).values(last_seen_at=utcnow() - timedelta(days=40)))
    assert purge_expired(db, utcnow(), days=30).customers_deleted == 1
    db.dispose()

    dump = subprocess.run([PG_DUMP, "--data-only", postgres_url], capture_output=True, text=True, check=True).stdout
    assert "deletion_receipt" in dump and receipt.replies[0].text.split("id ")[1][:12] in dump
    assert [marker for marker in (user, name, text, old_user, old_text) if marker in dump] == []
