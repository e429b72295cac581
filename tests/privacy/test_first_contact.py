"""First contact on every channel: the privacy notice is shown and its version and time are stored (the web chat
stores them with the customer's first message: a visitor who only opens the page leaves nothing); with strict
consent nothing but the consent question is stored until the customer agrees."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from bot.privacy.stage import AGREE_CHOICE
from bot.texts import DEFAULT_TEXTS
from storage.models import Customer, CustomerPrivacy, Identity
from tests.adapters.wechat_fake import event_xml, signed_query
from tests.privacy.channels import TelegramCustomer, WebCustomer
from tests.privacy.helpers import files_holding, telegram_post, telegram_update, wait_until

say = DEFAULT_TEXTS.say


def stored_customers(runtime) -> int:
    with runtime.db.session() as session:
        return len(session.exec(select(Customer.id)).all())


def identity(runtime, user: str) -> Identity | None:
    with runtime.db.session() as session:
        return session.exec(select(Identity).where(Identity.platform_user_id == user)).first()


@pytest.fixture
def strict(runtime) -> Iterator[None]:
    rules = runtime.engine.privacy.rules
    rules.strict_consent = True
    yield
    rules.strict_consent = False


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_web_chat_shows_the_notice_and_stores_its_version_with_the_first_message(server, runtime, language):
    version = runtime.engine.privacy.rules.notice_version
    welcome = httpx.get(f"{server.url}/api/chat/welcome", params={"language": language}, timeout=30).json()
    assert welcome["privacy"] == {"version": version, "strict": False, "text": say("privacy_notice", language)}
    customer = WebCustomer(server.url, runtime, language, notice_version=version)
    before = stored_customers(runtime)
    history = httpx.get(f"{server.url}/api/chat/history", params={"session_id": customer.user}, timeout=30).json()
    assert history["lines"] == [] and history["notice_version"] is None
    assert httpx.get(f"{server.url}/api/chat/updates", params={"session_id": customer.user}).status_code == 200
    assert stored_customers(runtime) == before  # only looking leaves nothing

    customer.say("hello" if language == "en" else "你好")

    with runtime.db.session() as session:
        stored = session.get(CustomerPrivacy, customer.customer_id())
    assert stored.notice_version == version and stored.notice_seen_at is not None
    history = httpx.get(f"{server.url}/api/chat/history", params={"session_id": customer.user}, timeout=30).json()
    assert history["notice_version"] == version  # a returning page does not show it again


@pytest.mark.parametrize("language", ["en", "zh"])
def test_strict_consent_on_the_web_chat_stores_nothing_until_i_agree(server, runtime, data_dir, strict, language):
    welcome = httpx.get(f"{server.url}/api/chat/welcome", params={"language": language}, timeout=30).json()
    agree = {"id": AGREE_CHOICE, "label": say("privacy_agree", language)}
    assert welcome["privacy"]["text"] == say("privacy_consent_question", language)
    assert welcome["privacy"]["choices"] == [agree]
    customer = WebCustomer(server.url, runtime, language)

    marker = f"{'my secret' if language == 'en' else '请问我的快递什么时候能到呢'} marker-strict-web-{language}"
    assert customer.say(marker) == [say("privacy_consent_question", language)]
    assert customer.last[0]["choices"] == [agree]
    assert identity(runtime, customer.user) is None
    assert files_holding([marker, customer.user], [data_dir]) == {}

    assert customer.press(AGREE_CHOICE, agree["label"]) == [say("privacy_consent_thanks", language)]
    with runtime.db.session() as session:
        stored = session.get(CustomerPrivacy, customer.customer_id())
    assert stored.consent == "given" and stored.notice_version == runtime.engine.privacy.rules.notice_version
    assert customer.say("how do refunds work")[0] != say("privacy_consent_question", language)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_strict_consent_telegram_start_gets_the_question_and_nothing_is_stored(
    server, runtime, fake_telegram, data_dir, strict, language
):
    customer = TelegramCustomer(server.url, runtime, language, fake_telegram)
    telegram_post(server.url, telegram_update("/start", customer.chat, "Quillon Marker", language))
    (question,) = fake_telegram.wait_for_sent(1)
    assert question["text"] == say("privacy_consent_question", language)
    assert "privacy:agree" in str(question["reply_markup"])
    assert identity(runtime, customer.user) is None
    wait_until(lambda: not files_holding([customer.user, "Quillon Marker"], [data_dir]), what="the question scrubbed")

    assert customer.press(AGREE_CHOICE, say("privacy_agree", language)) == [say("privacy_consent_thanks", language)]
    assert identity(runtime, customer.user) is not None


def test_strict_consent_wechat_subscribe_gets_the_question_and_nothing_is_stored(server, runtime, strict):
    openid = "oStrictSubscribe0001"
    reply = httpx.post(f"{server.url}/wechat?{signed_query()}", content=event_xml("subscribe", openid), timeout=30)
    assert say("privacy_consent_question", "zh") in reply.text
    unsubscribed = httpx.post(f"{server.url}/wechat?{signed_query()}", content=event_xml("unsubscribe", openid))
    assert unsubscribed.text == "success"
    assert identity(runtime, openid) is None


def test_without_strict_consent_telegram_start_stores_the_notice_version(server, runtime, fake_telegram):
    customer = TelegramCustomer(server.url, runtime, "zh", fake_telegram)
    telegram_post(server.url, telegram_update("/start", customer.chat, "Ada", "zh"))
    assert [m["text"] for m in fake_telegram.wait_for_sent(2)][1] == say("privacy_notice", "zh")
    with runtime.db.session() as session:
        stored = session.get(CustomerPrivacy, customer.customer_id())
    assert stored.notice_version == runtime.engine.privacy.rules.notice_version
