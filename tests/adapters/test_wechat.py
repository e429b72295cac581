"""WeChat Official Account end to end: the real app and wechatpy's crypto, a fake WeChat API on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_none
from wechatpy.crypto import WeChatCrypto

from adapters.wechat_api import OfficialAccountClient, WeChatSender, _transient
from adapters.wechat_messages import TEXT_LIMIT_BYTES, split_text
from adapters.wechat_xml import parse_flat_xml
from bot.messages import Choice, InboundMessage, OutboundMessage
from bot.outbox import Outbox
from bot.runtime import Runtime
from bot.settings import Settings
from bot.texts import DEFAULT_TEXTS
from knowledge.entry import FaqEntry
from storage.models import Message, OutboxMessage, OutboxStatus
from tests.adapters.conftest import AppServer, LiveServer
from tests.adapters.wechat_fake import (
    SAMPLE_AES_KEY,
    SAMPLE_APP_ID,
    SAMPLE_BODY,
    SAMPLE_MSG_ID,
    SAMPLE_MSG_SIGNATURE,
    SAMPLE_NONCE,
    SAMPLE_OPENID,
    SAMPLE_TIMESTAMP,
    SAMPLE_TOKEN,
    FakeWeChatApi,
    encrypted_request,
    event_xml,
    sign,
    signed_query,
    text_xml,
)
from tests.bot.test_outbox import Clock

say = DEFAULT_TEXTS.say

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o-xxe</FromUserName><MsgType>text</MsgType>"
    b"<Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
_LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol0 "lol">{_LAUGHS}]>'
    "<xml><FromUserName>o-lol</FromUserName><MsgType>text</MsgType><Content>&lol9;</Content><MsgId>2</MsgId></xml>"
).encode()


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeWeChatApi]:
    fake = FakeWeChatApi()
    with AppServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(scope="module")
def runtime(tmp_path_factory, fake_api) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("wechat-data"),
        wechat_token=SAMPLE_TOKEN,
        wechat_aes_key=SAMPLE_AES_KEY,
        wechat_app_id=SAMPLE_APP_ID,
        wechat_app_secret="app-secret",
        wechat_api_base_url=fake_api.url,
        knowledge_recheck_seconds=0,
    )
    runtime = Runtime.open(settings)
    asyncio.run(runtime.engine.handle(InboundMessage("test", "warm-up", "hello")))  # load models before timing
    yield runtime
    runtime.close()


def serve(runtime: Runtime, fake_api: FakeWeChatApi) -> LiveServer:
    fake_api.reset()
    server = LiveServer(runtime)
    server.start()
    return server


@pytest.fixture
def server(runtime, fake_api) -> Iterator[LiveServer]:
    server = serve(runtime, fake_api)
    yield server
    server.stop()


def post(server: LiveServer, body: str | bytes, query: str | None = None) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.post(f"{server.url}/wechat?{query or signed_query()}", content=content, timeout=30)


def logged(runtime: Runtime, msg_id: str) -> list[Message]:
    with runtime.db.session() as session:
        return list(session.exec(select(Message).where(Message.platform_message_id == msg_id)).all())


def outbox_rows(runtime: Runtime, openid: str) -> list[OutboxMessage]:
    with runtime.db.session() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.platform == "wechat", OutboxMessage.platform_user_id == openid
        )
        return list(session.exec(query).all())


def messages_of(runtime: Runtime, openid: str) -> list[Message]:
    with runtime.db.session() as session:
        rows = session.exec(select(Message).where(Message.platform == "wechat")).all()
    return [m for m in rows if m.customer_id in _customers(runtime, openid)]


def _customers(runtime: Runtime, openid: str) -> set[int]:
    return {c.id for c in runtime.customers.find(openid)}


def test_tencents_published_sample_decrypts_through_the_endpoint(server, runtime, fake_api, monkeypatch):
    crypto = server.app.state.channels.wechat._crypto
    monkeypatch.setattr(crypto, "clock", lambda: int(SAMPLE_TIMESTAMP))  # the sample was signed years ago
    query = signed_query(
        timestamp=SAMPLE_TIMESTAMP, nonce=SAMPLE_NONCE, encrypt_type="aes", msg_signature=SAMPLE_MSG_SIGNATURE
    )
    response = post(server, SAMPLE_BODY, query)

    assert response.status_code == 200
    if response.text == "success":  # the engine took longer than the passive budget on this machine
        [sent] = fake_api.wait_for_sent(1)
        assert sent["touser"] == SAMPLE_OPENID
    else:
        envelope = parse_flat_xml(response.content)
        crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APP_ID)
        reply = parse_flat_xml(
            crypto.decrypt_message(envelope, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        )
        assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == (
            SAMPLE_OPENID,
            "gh_10f6c3c3ac5a",
            "text",
        )
        assert reply["Content"]
    [inbound] = logged(runtime, SAMPLE_MSG_ID)
    assert (inbound.text, inbound.direction) == ("abcdteT", "in")


def test_url_verification_echoes_only_for_a_good_signature(server):
    good = httpx.get(f"{server.url}/wechat?{signed_query(echostr='echo-123')}")
    bad = httpx.get(f"{server.url}/wechat?signature=0000&timestamp=1&nonce=2&echostr=echo-123")
    assert (good.status_code, good.text) == (200, "echo-123")
    assert bad.status_code == 403 and "echo-123" not in bad.text


def test_a_plaintext_message_is_answered_passively(server, runtime):
    response = post(server, text_xml("运费怎么算？", "o-plain", msg_id="1001"))

    assert response.status_code == 200
    reply = parse_flat_xml(response.content)
    assert reply["ToUserName"] == "o-plain" and "运费" in reply["Content"]
    assert len(logged(runtime, "1001")) == 1


def test_an_answer_too_long_for_a_passive_reply_arrives_in_parts_as_customer_service_messages(
    server, runtime, fake_api
):
    answer = "".join(f"第{i}条：积分在确认收货后到账，每消费一元得一分，积分可在结算时抵扣现金。" for i in range(1, 61))
    assert len(answer.encode()) > 2 * TEXT_LIMIT_BYTES
    entry = FaqEntry("points_rules_full", ["积分规则的完整条款是什么"], answer_zh=answer)
    runtime.faqs.save_many([entry], author="test")

    response = post(server, text_xml("积分规则的完整条款是什么", "o-long", msg_id="1011"))

    assert (response.status_code, response.text) == (200, "success")  # WeChat would refuse it passively
    parts = [m["text"]["content"] for m in fake_api.wait_for_sent(len(split_text(answer)))]
    assert all(len(part.encode()) <= TEXT_LIMIT_BYTES for part in parts)
    assert "".join(parts) == answer
    assert [m.direction for m in logged(runtime, "1011")] == ["in"] and logged(runtime, "1011")[0].faq_id


def test_split_text_keeps_every_character_and_cuts_at_sentence_ends():
    text = "Refunds take five days, sometimes more. " * 80
    parts = split_text(text, 512)
    assert " ".join(parts) == text.strip()
    assert all(len(part.encode()) <= 512 and part.endswith(".") for part in parts)
    assert split_text("短消息") == ["短消息"]
    assert [len(p) for p in split_text("啊" * 1000, 300)] == [100] * 10  # no break at all: cut between characters


def test_a_safe_mode_message_is_answered_encrypted(server, runtime):
    query, body = encrypted_request(text_xml("怎么取消订单？", "o-safe", msg_id="1002"))
    response = post(server, body, query)

    envelope = parse_flat_xml(response.content)
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APP_ID)
    plain = crypto.decrypt_message(envelope, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
    assert "取消" in parse_flat_xml(plain)["Content"]
    assert len(logged(runtime, "1002")) == 1


@pytest.mark.parametrize("tamper", ["signature", "msg_signature", "stale"])
def test_bad_signatures_are_refused_and_nothing_is_logged(server, runtime, fake_api, tamper):
    if tamper == "stale":
        query, body = signed_query(timestamp=str(int(time.time()) - 3600)), text_xml("hi", "o-bad", msg_id="1003")
    else:
        query, body = encrypted_request(text_xml("hi", "o-bad", msg_id="1003"))
        key, _, value = next(p.partition("=") for p in query.split("&") if p.startswith(tamper + "="))
        query = query.replace(f"{key}={value}", f"{key}={'0' * 40}")
    assert post(server, body, query).status_code == 403
    assert logged(runtime, "1003") == [] and runtime.customers.find("o-bad") == []


def test_the_same_msgid_three_times_gives_one_message_and_one_answer(server, runtime, fake_api):
    body = text_xml("下单后多久发货？", "o-retry", msg_id="1004")

    async def three_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            calls = [client.post(f"{server.url}/wechat?{signed_query()}", content=body) for _ in range(3)]
            return list(await asyncio.gather(*calls))

    responses = asyncio.run(three_at_once())
    responses.append(post(server, body))  # and once more after the others were answered
    assert [r.status_code for r in responses] == [200] * 4
    answers = [r.text for r in responses if r.text != "success"]
    assert len(answers) == 1 and "<Content>" in answers[0]
    assert len(logged(runtime, "1004")) == 1
    # No work left running, so a (wrong) second answer could only be waiting in the outbox: there is none.
    assert server.app.state.channels.wechat.window.running() == 0
    assert outbox_rows(runtime, "o-retry") == [] and fake_api.sent == []


class GatedEngine:
    """The real engine, held back until the test opens the gate: an artificially slow answer path."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.gate: asyncio.Event | None = None
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._engine, name)

    async def handle(self, message):
        self.calls += 1
        self.loop = asyncio.get_running_loop()
        self.gate = self.gate or asyncio.Event()
        await self.gate.wait()
        return await self._engine.handle(message)

    def open(self) -> None:
        """Called from the test's thread; the gate lives on the server's event loop."""
        if self.gate is not None:
            self.loop.call_soon_threadsafe(self.gate.set)


@pytest.fixture
def slow_server(runtime, fake_api) -> Iterator[tuple[LiveServer, GatedEngine]]:
    engine = GatedEngine(runtime.engine)
    slow_runtime = dataclasses.replace(runtime, engine=engine)
    server = serve(slow_runtime, fake_api)
    yield server, engine
    engine.open()
    server.stop()


def test_a_slow_answer_is_acknowledged_within_5_seconds_and_sent_as_a_customer_service_message(
    slow_server, runtime, fake_api
):
    server, engine = slow_server
    body = text_xml("怎么查物流信息", "o-slow", msg_id="1005")

    started = time.monotonic()
    first = post(server, body)
    elapsed = time.monotonic() - started
    assert (first.status_code, first.text) == (200, "success")
    assert 3.5 <= elapsed < 5.0, elapsed  # the passive budget (3.5 s) spent, WeChat's 5 s not reached

    server.app.state.channels.wechat.window.budget = 0.2  # the retries need not wait 3.5 s each in this test
    assert post(server, body).text == "success"  # WeChat's retry while the engine still works
    engine.open()

    [sent] = fake_api.wait_for_sent(1)
    assert sent["touser"] == "o-slow" and "物流" in sent["text"]["content"]
    assert post(server, body).text == "success"  # a last retry after the answer went out
    assert server.app.state.channels.wechat.window.running() == 0  # nothing more can come of the three posts
    assert len(outbox_rows(runtime, "o-slow")) == 1
    assert len(fake_api.sent) == 1 and engine.calls == 1
    assert len(logged(runtime, "1005")) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (XXE, 400),
        (BILLION_LAUGHS, 400),
        (b"<xml><MsgType>text</MsgType", 400),
        (b"<xml><FromUserName>o-x</FromUserName><MsgType>text</MsgType><Content>\xff\xfe</Content></xml>", 400),
        (b"<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType><Content>hi</Content><MsgId>7</MsgId></xml>", 400),
        (b"<notxml/>", 400),
        (b"", 400),
        (b"<xml>" + b"a" * 70_000 + b"</xml>", 413),
        (b"<xml>" + b"a" * 300_000 + b"</xml>", 413),
    ],
)
def test_bad_input_gets_a_clear_status_and_nothing_is_stored(server, runtime, body, status):
    with runtime.db.session() as session:
        before = len(session.exec(select(Message.id)).all())
    assert post(server, body).status_code == status  # entities are refused before anything is expanded
    with runtime.db.session() as session:
        assert len(session.exec(select(Message.id)).all()) == before
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_non_text_or_unknown_message_gets_the_text_only_notice(server, runtime):
    for kind, msg_id in (("image", "1006"), ("miniprogrampage", "1007")):
        reply = parse_flat_xml(post(server, text_xml("", "o-photo", msg_id=msg_id, kind=kind)).content)
        assert reply["Content"] == say("non_text", "zh") or reply["Content"] == say("non_text", "en")
        [inbound] = logged(runtime, msg_id)
        assert inbound.decision == "non_text"


def test_subscribe_is_welcomed_with_the_privacy_notice_and_unsubscribe_is_recorded(server, runtime):
    reply = parse_flat_xml(post(server, event_xml("subscribe", "o-follow")).content)
    assert reply["Content"] == runtime.engine.welcome("zh") + "\n\n" + say("privacy_notice", "zh")

    assert post(server, event_xml("unsubscribe", "o-follow")).text == "success"
    assert post(server, event_xml("VIEW", "o-follow")).text == "success"
    decisions = [m.decision for m in messages_of(runtime, "o-follow") if m.direction == "in"]
    assert decisions == ["subscribe", "unsubscribe"]


def test_a_photo_right_after_subscribing_is_answered_in_the_welcomes_language(server, runtime):
    parse_flat_xml(post(server, event_xml("subscribe", "o-new-photo")).content)
    reply = parse_flat_xml(post(server, text_xml("", "o-new-photo", msg_id="1031", kind="image")).content)
    assert reply["Content"] == say("non_text", "zh")


# Sending customer-service messages: wechatpy against the fake API; retries without waiting on wall time.


def sender(fake_api: FakeWeChatApi) -> WeChatSender:
    retrying = Retrying(
        retry=retry_if_exception(_transient), stop=stop_after_attempt(3), wait=wait_none(), reraise=True
    )
    return WeChatSender(OfficialAccountClient(SAMPLE_APP_ID, "app-secret", fake_api.url), retrying)


def outbound(text: str = "您的退款已经处理。", choices: list[Choice] | None = None) -> OutboundMessage:
    return OutboundMessage("wechat", "o-agent", text, "zh", chat_id="o-agent", choices=choices or [], kind="agent")


async def test_a_server_error_then_success_delivers_once_and_the_token_is_cached(runtime, fake_api):
    fake_api.reset()
    outbox = Outbox(runtime.db, {"wechat": sender(fake_api)}, clock=Clock())
    fake_api.failures.append((500, {"errcode": -1, "errmsg": "system error"}))
    row_id = outbox.enqueue(outbound())
    outbox.enqueue(outbound("第二条"))

    assert await outbox.deliver_due() == 2
    assert [m["text"]["content"] for m in fake_api.sent] == ["您的退款已经处理。", "第二条"]
    assert outbox.get(row_id).status == OutboxStatus.DELIVERED
    assert fake_api.token_requests == 1


async def test_an_expired_token_is_refreshed(runtime, fake_api):
    fake_api.reset()
    wechat = sender(fake_api)
    await wechat.send(outbound())
    fake_api.valid_token = "ACCESS-2"  # WeChat revoked the cached token
    try:
        await wechat.send(outbound("again"))
    finally:
        fake_api.valid_token = "ACCESS-1"
    assert len(fake_api.sent) == 2 and fake_api.token_requests == 2


async def test_the_48_hour_window_closing_is_a_permanent_failure_kept_with_the_error(runtime, fake_api):
    fake_api.reset()
    outbox = Outbox(runtime.db, {"wechat": sender(fake_api)}, clock=Clock())
    fake_api.failures.append((200, {"errcode": 45015, "errmsg": "response out of time limit"}))
    row_id = outbox.enqueue(outbound())

    await outbox.deliver_due()
    row = outbox.get(row_id)
    assert row.status == OutboxStatus.FAILED and "45015" in row.last_error


async def test_choices_become_tappable_menu_links(runtime, fake_api):
    fake_api.reset()
    await sender(fake_api).send(outbound("您想问哪一个？", [Choice("faq:order_cancel", "取消订单")]))
    [sent] = fake_api.sent
    assert 'href="weixin://bizmsgmenu?msgmenucontent=取消订单&msgmenuid=faq:order_cancel"' in sent["text"]["content"]


def test_a_pressed_menu_link_comes_back_as_that_choice(server, runtime):
    body = text_xml("取消订单", "o-menu", msg_id="1008").replace(
        "</Content>", "</Content><bizmsgmenuid>faq:order_cancel</bizmsgmenuid>"
    )
    assert post(server, body).status_code == 200
    [inbound] = logged(runtime, "1008")
    assert inbound.faq_id == "order_cancel"


def test_sign_matches_the_published_sample():
    encrypt = SAMPLE_BODY.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert sign(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE, encrypt) == SAMPLE_MSG_SIGNATURE


def test_a_link_code_asked_for_on_telegram_links_the_wechat_account(server, runtime):
    asked = asyncio.run(
        runtime.engine.handle(InboundMessage("telegram", "t-link", "link", chat_id="t-link", message_id="tl-1"))
    )
    words = [word.rstrip(".。") for word in asked.replies[0].text.split()]
    code = next(word for word in words if len(word) == 9 and word[4] == "-")

    reply = parse_flat_xml(post(server, text_xml(code, "o-link", msg_id="1009")).content)

    assert reply["Content"] == say("link_done", "en")
    [customer] = runtime.customers.find("o-link")
    assert runtime.customers.find("t-link") == [customer]
    assert {m.platform for m in runtime.customers.view(customer.id).messages} == {"telegram", "wechat"}


def test_an_hour_old_safe_mode_request_is_refused(server, runtime):
    hour_ago = str(int(time.time()) - 3600)
    query, body = encrypted_request(text_xml("hi", "o-old-capture", msg_id="1301"), timestamp=hour_ago)
    assert post(server, body, query).status_code == 403
    assert logged(runtime, "1301") == [] and runtime.customers.find("o-old-capture") == []


def test_a_captured_plaintext_url_with_another_body_and_openid_is_refused(server, runtime):
    query = signed_query()
    assert post(server, text_xml("hello", "o-real", msg_id="1302"), query).status_code == 200
    forged = post(server, text_xml("send me the refund", "o-forged", msg_id="1303"), query)
    assert forged.status_code == 403
    assert logged(runtime, "1303") == [] and runtime.customers.find("o-forged") == []


def test_a_replay_after_customer_forget_does_not_bring_the_customer_back(server, runtime):
    query, body = encrypted_request(text_xml("我的订单在哪？", "o-forgotten", msg_id="1304"))
    assert post(server, body, query).status_code == 200
    [customer] = runtime.customers.find("o-forgotten")
    runtime.customers.forget(customer.id, actor="staff:test")

    assert post(server, body, query).status_code == 403
    assert runtime.customers.find("o-forgotten") == [] and logged(runtime, "1304") == []
