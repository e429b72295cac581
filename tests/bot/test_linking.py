"""Account linking: a one-time code asked for on one channel and sent on another joins both into one customer."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.linking import AccountLinking, LinkDecision
from bot.messages import InboundMessage
from bot.texts import DEFAULT_TEXTS
from storage.conversations import ConversationLog, ConversationSnapshot, LoggedMessage
from storage.customers import CustomerRepository
from storage.identity_links import IdentityLinks, LinkOutcome
from storage.models import AuditLog, Customer, Identity, Message, Note
from tests.bot.test_outbox import Clock


def said(linking: AccountLinking, platform: str, user: str, text: str, language: str = "en"):
    message = InboundMessage(platform=platform, platform_user_id=user, text=text, chat_id=user)
    return linking.intercept(message, text, language, ConversationSnapshot())


def history(log: ConversationLog, platform: str, user: str, text: str) -> int:
    return log.record_exchange(platform, user, user, None, LoggedMessage("in", text), []).customer_id


def code_in(reply) -> str:
    return next(word.rstrip("。.,，") for word in reply.text.split() if "-" in word and len(word.rstrip("。.,，")) == 9)


def test_a_code_from_telegram_sent_on_wechat_makes_one_customer_with_one_history(database):
    log, customers = ConversationLog(database), CustomerRepository(database)
    telegram_customer = history(log, "telegram", "t-1", "where is my parcel?")
    wechat_customer = history(log, "wechat", "o-1", "我的快递到哪了")
    customers.add_note(wechat_customer, "agent", "prefers WeChat")
    linking = AccountLinking(IdentityLinks(database))

    issued = said(linking, "telegram", "t-1", "link")
    assert issued.decision == LinkDecision.CODE_ISSUED
    done = said(linking, "wechat", "o-1", code_in(issued), language="zh")

    assert (done.decision, done.text) == (LinkDecision.LINKED, DEFAULT_TEXTS.say("link_done", "zh"))
    kept = min(telegram_customer, wechat_customer)
    with database.session() as session:
        assert [c.id for c in session.exec(select(Customer)).all()] == [kept]
        identities = {(i.platform, i.platform_user_id) for i in session.exec(select(Identity)).all()}
        assert identities == {("telegram", "t-1"), ("wechat", "o-1")}
        assert {m.customer_id for m in session.exec(select(Message)).all()} == {kept}
        assert [n.customer_id for n in session.exec(select(Note)).all()] == [kept]
        assert session.exec(select(AuditLog).where(AuditLog.action == "customer.merge")).one()
    assert history(log, "wechat", "o-1", "thanks") == kept  # later messages land on the kept customer


def test_a_code_works_once(database):
    log = ConversationLog(database)
    history(log, "telegram", "t-2", "hi")
    links = IdentityLinks(database)
    code = links.issue("telegram", "t-2")

    assert links.redeem(code, "wechat", "o-2").outcome == LinkOutcome.LINKED
    assert links.redeem(code, "wechat", "o-3").outcome == LinkOutcome.INVALID


def test_an_account_never_seen_before_is_attached_to_the_customer(database):
    customer = history(ConversationLog(database), "telegram", "t-4", "hi")
    links = IdentityLinks(database)

    result = links.redeem(links.issue("telegram", "t-4"), "wechat", "o-new", display_name="Ada")
    assert (result.outcome, result.customer_id) == (LinkOutcome.LINKED, customer)
    assert [c.id for c in CustomerRepository(database).find("o-new")] == [customer]


def test_expired_wrong_same_account_and_already_linked_codes_are_refused(database):
    log, clock = ConversationLog(database), Clock()
    history(log, "telegram", "t-5", "hi")
    links = IdentityLinks(database, ttl=timedelta(minutes=10), clock=clock)
    linking = AccountLinking(links)

    expiring = links.issue("telegram", "t-5")
    clock.advance(601)
    assert links.redeem(expiring, "wechat", "o-5").outcome == LinkOutcome.INVALID
    assert said(linking, "wechat", "o-5", "ZZZZ-ZZZZ").text == DEFAULT_TEXTS.say("link_invalid", "en")

    fresh = links.issue("telegram", "t-5")
    assert links.redeem(fresh, "telegram", "t-5").outcome == LinkOutcome.SAME_ACCOUNT
    assert links.redeem(fresh.lower(), "wechat", "o-5").outcome == LinkOutcome.LINKED
    again = links.issue("wechat", "o-5")
    assert links.redeem(again, "telegram", "t-5").outcome == LinkOutcome.ALREADY


def test_asking_again_replaces_the_earlier_code(database):
    history(ConversationLog(database), "telegram", "t-6", "hi")
    links = IdentityLinks(database)
    first, second = links.issue("telegram", "t-6"), links.issue("telegram", "t-6")

    assert links.redeem(first, "wechat", "o-6").outcome == LinkOutcome.INVALID
    assert links.redeem(second, "wechat", "o-6").outcome == LinkOutcome.LINKED


def test_ordinary_messages_and_other_platforms_pass_through(database):
    linking = AccountLinking(IdentityLinks(database))
    assert said(linking, "telegram", "t-7", "how do I link my card to my account?") is None
    assert said(linking, "web", "session-1", "link") is None
    zh = said(linking, "wechat", "o-7", "绑定账号", language="zh")
    assert zh.decision == LinkDecision.CODE_ISSUED and "绑定码" in zh.text
