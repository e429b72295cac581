"""Customers see, export and delete their own data by asking in the chat: web chat over HTTP, Telegram through
python-telegram-bot and WeChat through wechatpy, each against its fake platform API, in English and Chinese."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlmodel import select

from adapters.http_app import create_app
from bot.engine import Engine
from bot.messages import InboundMessage, OutboundMessage
from bot.outbox import Outbox
from bot.privacy import housekeeping, open_data_rights
from bot.runtime import Runtime
from bot.settings import Settings
from bot.texts import DEFAULT_TEXTS
from storage.conversations import ConversationLog
from storage.db import Database
from storage.models import AuditLog, Customer, DeletionReceipt, Identity, Message
from tests.adapters.conftest import AppServer
from tests.adapters.telegram_fake import TOKEN, WEBHOOK_SECRET, FakeTelegram, callback_update
from tests.adapters.wechat_fake import SAMPLE_APP_ID, SAMPLE_TOKEN, FakeWeChatApi
from tests.conftest import POSTGRES_ADMIN_URL
from tests.privacy.helpers import (
    LoggedServer,
    files_holding,
    telegram_post,
    telegram_update,
    wait_until,
    web_say,
    wechat_say,
)

say = DEFAULT_TEXTS.say
PUBLIC_URL = "https://desk.example.com"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/privacy/export/[A-Za-z0-9_-]+)")
RECEIPT = re.compile(r"D-[0-9A-F]{10}")


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with AppServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[FakeWeChatApi]:
    fake = FakeWeChatApi()
    with AppServer(fake.app) as server:
        fake.url = server.url
        yield fake


def channel_settings(data_dir: Path, fake_telegram, fake_wechat, **extra) -> Settings:
    return Settings(
        data_dir=data_dir,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_base_url=fake_telegram.url,
        wechat_token=SAMPLE_TOKEN,
        wechat_app_id=SAMPLE_APP_ID,
        wechat_app_secret="app-secret",
        wechat_api_base_url=fake_wechat.url,
        public_url=PUBLIC_URL,
        privacy_check_seconds=0.1,
        knowledge_recheck_seconds=0,
        **extra,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("privacy-data")


@pytest.fixture(scope="module")
def log_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("privacy-logs") / "server.log"


@pytest.fixture(scope="module")
def runtime(data_dir, fake_telegram, fake_wechat) -> Iterator[Runtime]:
    runtime = Runtime.open(channel_settings(data_dir, fake_telegram, fake_wechat))
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def server(runtime, log_file) -> Iterator[LoggedServer]:
    server = LoggedServer(create_app(runtime), log_file)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_fakes(fake_telegram, fake_wechat):
    fake_telegram.reset()
    fake_wechat.reset()


def customer_of(runtime: Runtime, platform: str, user: str) -> int | None:
    with runtime.db.session() as session:
        return session.exec(
            select(Identity.customer_id).where(Identity.platform == platform, Identity.platform_user_id == user)
        ).first()


def telegram_texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [m["text"] for m in fake.sent if str(m["chat_id"]) == str(chat)]


# -- "what do you know about me": a summary and the full export -------------------------------------------------


@pytest.mark.parametrize(("language", "ask"), [("en", "What do you know about me?"), ("zh", "我的数据")])
def test_web_chat_customer_gets_a_summary_and_a_download_link_that_works_once(server, language, ask):
    session = f"web-view-{language}-0001"
    web_say(server.url, session, "where is my parcel, it is late" if language == "en" else "我的快递到哪了")
    answer = web_say(server.url, session, ask)

    summary, link = answer["replies"]
    assert summary["kind"] == "privacy_summary"
    assert f"web ({session})" in summary["text"]
    assert ("messages: 2" if language == "en" else "消息：2 条") in summary["text"]
    path = LINK.search(link["text"]).group(1)
    download = httpx.get(f"{server.url}{path}", timeout=30)
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    export = download.json()
    assert [i["platform_user_id"] for i in export["identities"]] == [session]
    assert ask in [m["text"] for m in export["messages"]]
    again = httpx.get(f"{server.url}{path}", timeout=30)
    assert again.status_code == 404
    assert say("privacy_link_invalid", "zh") in again.text


def test_the_export_link_token_is_stored_only_hashed(server, runtime):
    session = "web-hash-check-01"
    web_say(server.url, session, "hello there")
    link = web_say(server.url, session, "my data")["replies"][1]["text"]
    token = LINK.search(link).group(1).rsplit("/", 1)[1]
    with runtime.db.session() as session_:
        logged = " ".join(m.text for m in session_.exec(select(Message)).all())
    assert token not in logged
    assert "[one-time link]" in logged


@pytest.mark.parametrize(("language", "ask"), [("zh", "我的数据"), ("en", "what do you know about me")])
def test_telegram_customer_gets_a_summary_and_the_export_as_a_file(server, fake_telegram, language, ask):
    user = 4100 + len(language)
    telegram_post(
        server.url, telegram_update("how do refunds work" if language == "en" else "怎么退款", user, "Ada", language)
    )
    telegram_post(server.url, telegram_update(ask, user, "Ada", language))

    wait_until(lambda: fake_telegram.documents, what="the export document")
    document = fake_telegram.documents[0]
    assert document["chat_id"] == str(user)
    assert document["filename"].endswith(".json")
    assert document["caption"] == say("privacy_export_file", language)
    export = json.loads(document["content"])
    assert ask in [m["text"] for m in export["messages"]]
    texts = wait_until(lambda: [t for t in telegram_texts(fake_telegram, user) if str(user) in t], what="summary")
    assert texts[0].startswith(say("privacy_summary", language).split("{")[0])


@pytest.mark.parametrize(("language", "ask"), [("zh", "我的数据"), ("en", "What do you know about me")])
def test_wechat_customer_gets_a_summary_and_a_one_time_link(server, language, ask):
    openid = f"o-view-{language}-customer"
    wechat_say(server.url, openid, "你好")
    reply = wechat_say(server.url, openid, ask)
    assert openid in reply
    path = LINK.search(reply).group(1)
    assert httpx.get(f"{server.url}{path}", timeout=30).status_code == 200
    assert httpx.get(f"{server.url}{path}", timeout=30).status_code == 404


def test_a_data_request_is_answered_while_the_chat_waits_for_an_agent(server, runtime):
    session = "web-held-for-agent-1"
    web_say(server.url, session, "human")
    answer = web_say(server.url, session, "what do you know about me")
    assert [r["kind"] for r in answer["replies"]] == ["privacy_summary", "export_link"]
    assert web_say(server.url, session, "delete my data")["replies"][0]["kind"] == "privacy_delete_confirm"
    receipt = web_say(server.url, session, "yes")["replies"][0]["text"]
    assert RECEIPT.search(receipt)
    assert customer_of(runtime, "web", session) is None


# -- "delete my data": confirmation, receipt, retries ----------------------------------------------------------


@pytest.mark.parametrize(("language", "ask", "yes"), [("en", "delete my data", "yes"), ("zh", "删除我的数据", "是")])
def test_web_chat_delete_needs_a_yes_and_a_retried_yes_deletes_once(server, runtime, language, ask, yes):
    session = f"web-delete-{language}-0001"
    web_say(server.url, session, "hello")
    confirm = web_say(server.url, session, ask)["replies"][0]
    assert confirm["text"] == say("privacy_delete_confirm", language).replace("{minutes}", "10")
    assert [c["id"] for c in confirm["choices"]] == ["privacy:confirm", "privacy:cancel"]

    first = web_say(server.url, session, yes, message_id=f"confirm-{language}")
    retry = web_say(server.url, session, yes, message_id=f"confirm-{language}")

    receipt = first["replies"][0]["text"]
    deletion_id = RECEIPT.search(receipt).group(0)
    assert retry == {"replies": [], "language": retry["language"], "duplicate": True}
    assert customer_of(runtime, "web", session) is None
    with runtime.db.session() as session_:
        assert session_.get(DeletionReceipt, deletion_id) is not None
        assert session_.exec(select(Message).where(Message.platform_message_id == f"confirm-{language}")).all() == []


@pytest.mark.parametrize(("language", "ask", "no"), [("en", "delete my data", "no"), ("zh", "删除我的数据", "取消")])
def test_a_delete_the_customer_does_not_confirm_deletes_nothing(server, runtime, language, ask, no):
    session = f"web-keep-{language}-00001"
    web_say(server.url, session, "hello")
    web_say(server.url, session, ask)
    assert web_say(server.url, session, no)["replies"][0]["text"] == say("privacy_delete_cancelled", language)
    web_say(server.url, session, ask)
    web_say(server.url, session, "where is my order")  # answering something else drops the question
    later = web_say(server.url, session, "yes" if language == "en" else "是")
    assert later["replies"][0]["kind"] != "privacy_deleted"
    assert customer_of(runtime, "web", session) is not None


@pytest.mark.parametrize(("language", "ask", "yes"), [("zh", "删除我的数据", "是"), ("en", "Delete my data", "yes")])
def test_telegram_delete_retried_yes_sends_one_receipt(server, runtime, fake_telegram, language, ask, yes):
    user = 5200 + len(language)
    telegram_post(server.url, telegram_update("hello", user, "Ada", language))
    telegram_post(server.url, telegram_update(ask, user, "Ada", language))
    wait_until(lambda: any("10" in t for t in telegram_texts(fake_telegram, user)), what="the confirmation")
    update = telegram_update(yes, user, "Ada", language)
    telegram_post(server.url, update)
    telegram_post(server.url, update)  # Telegram delivers the same update again

    receipts = wait_until(lambda: [t for t in telegram_texts(fake_telegram, user) if RECEIPT.search(t)], what="receipt")
    telegram_post(server.url, telegram_update("hello again", user, "Ada", language))
    wait_until(lambda: len(telegram_texts(fake_telegram, user)) >= 4, what="the next answer")
    assert len([t for t in telegram_texts(fake_telegram, user) if RECEIPT.search(t)]) == len(receipts) == 1
    with runtime.db.session() as session:
        assert session.exec(select(Message).where(Message.platform_message_id == str(update["update_id"]))).all() == []


def test_telegram_delete_confirmed_with_the_button(server, runtime, fake_telegram):
    user = 5300
    telegram_post(server.url, telegram_update("hello", user, "Ada", "en"))
    telegram_post(server.url, telegram_update("delete my data", user, "Ada", "en"))
    wait_until(lambda: len(telegram_texts(fake_telegram, user)) >= 2, what="the confirmation")
    telegram_post(server.url, callback_update("privacy:confirm", say("privacy_yes", "en"), user_id=user))
    wait_until(lambda: [t for t in telegram_texts(fake_telegram, user) if RECEIPT.search(t)], what="receipt")
    assert customer_of(runtime, "telegram", str(user)) is None


@pytest.mark.parametrize(("language", "ask", "yes"), [("zh", "删除我的数据", "确认"), ("en", "delete my data", "yes")])
def test_wechat_delete_with_a_retried_yes(server, runtime, fake_wechat, language, ask, yes):
    openid = f"o-delete-{language}-customer"
    wechat_say(server.url, openid, "你好")
    confirm = wechat_say(server.url, openid, ask)
    assert confirm.startswith(say("privacy_delete_confirm", language).replace("{minutes}", "10"))
    assert "msgmenuid=privacy:confirm" in confirm
    receipt = wechat_say(server.url, openid, yes, msg_id=f"77{ord(language[0])}0001") or wechat_later(
        fake_wechat, openid
    )
    assert RECEIPT.search(receipt)
    assert customer_of(runtime, "wechat", openid) is None
    assert wechat_say(server.url, openid, yes, msg_id=f"77{ord(language[0])}0001") == ""  # WeChat's retry
    assert customer_of(runtime, "wechat", openid) is None
    assert [m for m in fake_wechat.sent if RECEIPT.search(m["text"]["content"])] in ([], [receipt])
    with runtime.db.session() as session:
        forgets = session.exec(select(AuditLog).where(AuditLog.action == "customer.forget")).all()
    assert all(line.detail is None and line.actor == "customer" for line in forgets)


def wechat_later(fake_wechat: FakeWeChatApi, openid: str) -> str:
    """A reply too slow for WeChat's passive window arrives as a customer-service message."""
    sent = wait_until(lambda: [m for m in fake_wechat.sent if m["touser"] == openid], what="the WeChat message")
    return sent[-1]["text"]["content"]


def test_nothing_is_stored_for_a_customer_who_asks_first(server, runtime):
    answer = web_say(server.url, "web-never-seen-01", "delete my data")
    assert answer["replies"][0]["text"] == say("privacy_nothing_stored", "en")
    with runtime.db.session() as session:
        assert session.exec(select(Customer).where(Customer.display_name == "web-never-seen-01")).all() == []
    assert customer_of(runtime, "web", "web-never-seen-01") is None


# -- the target: nothing of a deleted customer is left anywhere while the server runs -----------------------------

NAME = "Zebrafinch Quillworth"
EMAIL = "zq.marker@example.com"
PHONE = "+86 138 5550 7731"


def test_after_an_in_chat_delete_on_every_channel_nothing_of_the_customers_is_left(
    server, runtime, fake_telegram, fake_wechat, data_dir, log_file
):
    telegram_user, openid, session = 8812345001, "oQmarkerOpenid7731", "sessmarker88213x"
    said = {
        "web": "my parcel marker-pumpkin-web never came",
        "telegram": "where is marker-pumpkin-tg please",
        "wechat": "我的快递 marker-pumpkin-wx 没到",
    }
    # Web chat: a message, staff details on the record, a note, a staff lookup, an export link, a mailbox poll.
    web_say(server.url, session, said["web"])
    customer_id = customer_of(runtime, "web", session)
    with runtime.db.session() as db_session:
        customer = db_session.get(Customer, customer_id)
        customer.display_name, customer.email, customer.phone = NAME, EMAIL, PHONE
        db_session.add(customer)
    runtime.customers.add_note(customer_id, "staff:bob", f"{NAME} called about marker-pumpkin-web")
    assert set(files_holding([said["web"], NAME], [data_dir])) == {said["web"], NAME}  # the grep does find them
    runtime.customers.audit("slack:U1", "customer.lookup", f"customer:{customer_id}", {"query": PHONE})
    web_say(server.url, session, "my data")
    assert httpx.get(f"{server.url}/api/chat/updates", params={"session_id": session}, timeout=30).status_code == 200
    web_say(server.url, session, "delete my data")
    assert RECEIPT.search(web_say(server.url, session, "yes")["replies"][0]["text"])

    # Telegram: a link code, then a handoff (the code issued while waiting for an agent must go too).
    for text in (said["telegram"], "link", "human", "link", "delete my data"):
        telegram_post(server.url, telegram_update(text, telegram_user, NAME, "en"))
    wait_until(lambda: len(telegram_texts(fake_telegram, telegram_user)) >= 4, what="the confirmation")
    telegram_post(server.url, telegram_update("yes", telegram_user, NAME, "en"))
    wait_until(lambda: [t for t in telegram_texts(fake_telegram, telegram_user) if RECEIPT.search(t)], what="receipt")

    # WeChat: a message, the confirmation, the yes.
    wechat_say(server.url, openid, said["wechat"])
    wechat_say(server.url, openid, "删除我的数据")
    receipt = wechat_say(server.url, openid, "是") or wechat_later(fake_wechat, openid)
    assert RECEIPT.search(receipt)

    markers = [*said.values(), NAME, EMAIL, PHONE, str(telegram_user), openid, session]
    places = [data_dir, log_file]
    try:
        wait_until(lambda: not files_holding(markers, places), what="the receipts to be scrubbed")
    except AssertionError:
        raise AssertionError(f"left behind: {files_holding(markers, places)}") from None
    assert (data_dir / "warmdesk.db-wal").exists()  # the server is still running, its log still open
    logged = log_file.read_text(encoding="utf-8")
    assert "POST /wechat?[redacted]" in logged and "GET /api/chat/updates?[redacted]" in logged
    assert "signature=" not in logged and "nonce=" not in logged
    with runtime.db.session() as db_session:
        lookups = db_session.exec(select(AuditLog).where(AuditLog.action == "customer.lookup")).all()
    assert [line.detail for line in lookups if line.target == f"customer:{customer_id}"] == [None]


# -- and on PostgreSQL: a pg_dump after an in-chat delete ------------------------------------------------------

PG_DUMP = "/usr/bin/pg_dump"


class Recorder:
    def __init__(self, sent: list[OutboundMessage]) -> None:
        self.sent = sent

    async def send(self, message: OutboundMessage) -> str | None:
        self.sent.append(message)
        return None


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
