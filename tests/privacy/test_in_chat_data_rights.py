"""Customers see, export and delete their own data by asking in the chat: web chat over HTTP, Telegram through
python-telegram-bot and WeChat through wechatpy, each against its fake platform API, in English and Chinese."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from sqlmodel import select

from bot.runtime import Runtime
from bot.texts import DEFAULT_TEXTS
from storage.models import AuditLog, Customer, DeletionReceipt, Identity, Message
from tests.adapters.telegram_fake import FakeTelegram, callback_update
from tests.adapters.wechat_fake import FakeWeChatApi
from tests.privacy.helpers import (
    PUBLIC_URL,
    telegram_post,
    telegram_update,
    wait_until,
    web_say,
    wechat_say,
)

say = DEFAULT_TEXTS.say
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/privacy/export/[A-Za-z0-9_-]+)")
RECEIPT = re.compile(r"D-[0-9A-F]{10}")


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
