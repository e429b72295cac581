"""Every in-chat data request, on every channel, in both languages, through the real adapters: web chat over
HTTP, Telegram through python-telegram-bot and WeChat through wechatpy against their fake APIs. Including a
deletion the customer does not confirm (nothing deleted) and a platform's retry of the "yes" (deleted once,
one receipt)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from bot.privacy.stage import CANCEL_CHOICE, CONFIRM_CHOICE
from bot.texts import DEFAULT_TEXTS
from storage.models import CustomerPrivacy, DeletionReceipt
from tests.privacy.channels import Customer, TelegramCustomer, WebCustomer, WeChatCustomer
from tests.privacy.helpers import PUBLIC_URL

say = DEFAULT_TEXTS.say
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/privacy/export/[A-Za-z0-9_-]+)")
RECEIPT = re.compile(r"D-[0-9A-F]{10}")
PHRASES = {
    "en": {
        "hello": "hello",
        "view": "What do you know about me?",
        "who": "who looked at my data",
        "emotions": "Don't analyse my emotions",
        "agree": "I agree",
        "delete": "delete my data",
        "no": "no",
        "yes": "yes",
        "withdraw": "withdraw my consent",
    },
    "zh": {
        "hello": "你好",
        "view": "我的数据",
        "who": "谁看过我的数据",
        "emotions": "不要分析我的情绪",
        "agree": "同意",
        "delete": "删除我的数据",
        "no": "取消",
        "yes": "是",
        "withdraw": "撤回同意",
    },
}


def start(channel: str, language: str, server, runtime, fake_telegram, fake_wechat) -> Customer:
    if channel == "web":
        return WebCustomer(server.url, runtime, language)
    if channel == "telegram":
        return TelegramCustomer(server.url, runtime, language, fake_telegram)
    return WeChatCustomer(server.url, runtime, language, fake_wechat)


def joined(texts: list[str]) -> str:
    return "\n".join(texts)


def receipts(runtime) -> int:
    with runtime.db.session() as session:
        return len(session.exec(select(DeletionReceipt)).all())


def check_export(customer: Customer, texts: list[str], server, said: str) -> None:
    """The summary names the account; the full export reaches the customer (a file, or a one-time link)."""
    assert customer.user in joined(texts)
    if isinstance(customer, TelegramCustomer):
        (document,) = customer.documents()
        assert document["caption"] == say("privacy_export_file", customer.language)
        assert said.encode() in document["content"]
        return
    path = LINK.search(joined(texts)).group(1)
    download = httpx.get(f"{server.url}{path}", timeout=30)
    assert download.status_code == 200 and said in download.text
    assert httpx.get(f"{server.url}{path}", timeout=30).status_code == 404  # once


def answer(customer: Customer, choice_id: str, text_key: str, phrase: str) -> list[str]:
    """A button where the channel has buttons (web chat, Telegram), the typed word where it has not (WeChat)."""
    if isinstance(customer, WeChatCustomer):
        return customer.say(phrase)
    return customer.press(choice_id, say(text_key, customer.language))


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("channel", ["web", "telegram", "wechat"])
def test_every_data_request_on_every_channel(channel, language, server, runtime, fake_telegram, fake_wechat, slack_api):
    words = PHRASES[language]
    customer = start(channel, language, server, runtime, fake_telegram, fake_wechat)
    first = f"{words['hello']} marker-{channel}-{language}"
    customer.say(first)
    record = customer.customer_id()
    assert record is not None

    check_export(customer, customer.say(words["view"]), server, first)

    assert customer.say(words["who"]) == [say("privacy_no_accesses", language)]
    runtime.customers.audit("console:amy", "customer.view", f"customer:{record}")
    assert customer.say(words["who"])[0].startswith(say("privacy_accesses", language).split("{")[0])

    assert customer.say(words["emotions"]) == [say("privacy_emotions_off", language)]
    assert customer.say(words["agree"]) == [say("privacy_consent_thanks", language)]
    with runtime.db.session() as session:
        stored = session.get(CustomerPrivacy, record)
        assert stored.emotion_analysis is False and stored.consent == "given"

    # Asked, then not confirmed: by "no" (or its button), and by answering with something else.
    confirm = say("privacy_delete_confirm", language).replace("{minutes}", "10")
    assert customer.say(words["delete"])[0].startswith(confirm)
    assert answer(customer, CANCEL_CHOICE, "privacy_no", words["no"]) == [say("privacy_delete_cancelled", language)]
    customer.say(words["delete"])
    customer.say("where is my order" if language == "en" else "我的订单在哪")
    assert not RECEIPT.search(joined(customer.say(words["yes"])))
    assert customer.customer_id() == record

    # Confirmed, and the platform delivers the same "yes" again: deleted once, one receipt.
    before = receipts(runtime)
    customer.say(words["delete"])
    yes_id = f"yes-{channel}-{language}"  # the platform's id of that message (web chat: the page's)
    done = customer.say(words["yes"], message_id=yes_id)
    again = customer.say(words["yes"], message_id=yes_id)
    assert RECEIPT.search(joined(done)) and joined(done).startswith(say("privacy_deleted", language).split("{")[0])
    assert not RECEIPT.search(joined(again))
    assert customer.customer_id() is None and receipts(runtime) == before + 1

    # Back again, then withdrawing consent deletes like a confirmed deletion.
    customer.say(words["hello"])
    assert customer.customer_id() is not None
    withdrawn = joined(customer.say(words["withdraw"]))
    assert withdrawn.startswith(say("privacy_consent_withdrawn", language).split("{")[0]) and RECEIPT.search(withdrawn)
    assert customer.customer_id() is None


@pytest.mark.parametrize("channel", ["web", "telegram"])
def test_the_yes_button_deletes_too(channel, server, runtime, fake_telegram, fake_wechat):
    customer = start(channel, "zh", server, runtime, fake_telegram, fake_wechat)
    customer.say("你好")
    customer.say("删除我的数据")
    assert RECEIPT.search(joined(customer.press(CONFIRM_CHOICE, say("privacy_yes", "zh"))))
    assert customer.customer_id() is None
