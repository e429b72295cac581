"""A small CRM history whose figures are worked out by hand in the tests (see the comments for each row).

Range under test: [2026-11-02, 2026-11-16) — ISO weeks 2026-W45 and 2026-W46. FAQ topics: track and ship are
"orders", refund is "refunds", hours has no tag (its topic is "hours").

    customer  lang tier      conversation (channel, start)        customer messages (decision, faq, emotion)
    A Alice   en   standard  c0 web 11-01 23:30 (before range)    m0 answer track neutral
                             c1 web 11-02 09:00                   m1 answer track neutral 09:00, m3 answer ship
                                                                  anger 09:10, m5 handoff - anger 09:20 (h1),
                                                                  m6 held_for_agent - joy 09:40
                             c6 web 11-20 (after range)           m21 answer track neutral
    B 王波    zh   vip       c2 telegram 11-03 10:00              m7 answer refund anxiety, m9 no_answer sadness
                                                                  10:05, m11 clarify joy 10:30
                             c3 wechat 11-10 08:00                m13 answer hours anger, m15 handoff anger
                                                                  08:01 (h2, then h3 at 11:00)
    C Carl    en   standard  c4 web 11-11 12:00                   m16 answer track neutral, m18 answer hours
                                                                  joy 12:05
                             c5 telegram 11-12 09:00              m19 no_answer sadness
    D Dora    en   standard  c7 web 11-04 (forgotten)             m22 answer refund anger (h4, rated 1)

Handoffs: h1 anger, claimed 09:25 by ann, resolved 09:50, rated 5; h2 keyword, claimed 08:21 by bob,
resolved 10:01, rated 2; h3 keyword 11:00, never claimed. Every answered customer message gets one bot reply
(m2, m4, m8, m10, m12, m14, m17, m18b, m20); m5, m6, m15 get none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from storage.customers import CustomerRepository
from storage.db import Database
from storage.models import Conversation, Customer, FaqRecord, Handoff, Identity, Message, Note, OutboxMessage
from storage.reports import ReportRange

RANGE = ReportRange(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class Fixture:
    customers: dict[str, int] = field(default_factory=dict)
    conversations: dict[str, int] = field(default_factory=dict)
    handoffs: dict[str, int] = field(default_factory=dict)


def build(db: Database) -> Fixture:
    made = Fixture()
    with db.session() as session:
        for faq_id, tags in (("track", ["orders"]), ("ship", ["orders"]), ("refund", ["refunds"]), ("hours", [])):
            session.add(FaqRecord(id=faq_id, questions=[f"{faq_id}?"], answer=f"{faq_id}.", tags=tags))
        people = {
            "A": Customer(display_name="Alice", language="en", tier="standard", email="alice@example.com"),
            "B": Customer(display_name="王波", language="zh", tier="vip", phone="+8613800000000"),
            "C": Customer(display_name="Carl", language="en", tier="standard"),
            "D": Customer(display_name="Dora", language="en", tier="standard"),
        }
        for customer in people.values():
            session.add(customer)
        session.flush()
        made.customers = {key: c.id for key, c in people.items()}
        for key, platform, user in (
            ("A", "web", "alice-web"),
            ("B", "telegram", "555"),
            ("B", "wechat", "o-wangbo"),
            ("C", "web", "carl-web"),
            ("C", "telegram", "777"),
            ("D", "web", "dora-web"),
        ):
            session.add(Identity(customer_id=people[key].id, platform=platform, platform_user_id=user))

        def conversation(name: str, who: str, platform: str, started: datetime) -> Conversation:
            row = Conversation(
                customer_id=people[who].id, platform=platform, started_at=started, last_message_at=started
            )
            session.add(row)
            session.flush()
            made.conversations[name] = row.id
            return row

        def said(conv: Conversation, when: datetime, decision: str, faq: str | None, emotion: str, reply: bool) -> None:
            language = people_language[conv.customer_id]
            session.add(
                Message(
                    conversation_id=conv.id,
                    customer_id=conv.customer_id,
                    direction="in",
                    platform=conv.platform,
                    text=f"{decision} {faq or ''} {emotion}",
                    language=language,
                    emotion_label=emotion,
                    emotion_intensity=0.7,
                    faq_id=faq,
                    decision=decision,
                    created_at=when,
                )
            )
            if reply:
                session.add(
                    Message(
                        conversation_id=conv.id,
                        customer_id=conv.customer_id,
                        direction="out",
                        platform=conv.platform,
                        text="reply",
                        language=language,
                        faq_id=faq,
                        decision=decision,
                        created_at=when,
                    )
                )

        people_language = {c.id: c.language for c in people.values()}
        c0 = conversation("c0", "A", "web", at(1, 23, 30))
        said(c0, at(1, 23, 30), "answer", "track", "neutral", True)
        c1 = conversation("c1", "A", "web", at(2, 9))
        said(c1, at(2, 9), "answer", "track", "neutral", True)
        said(c1, at(2, 9, 10), "answer", "ship", "anger", True)
        said(c1, at(2, 9, 20), "handoff", None, "anger", False)
        said(c1, at(2, 9, 40), "held_for_agent", None, "joy", False)
        c6 = conversation("c6", "A", "web", at(20, 9))
        said(c6, at(20, 9), "answer", "track", "neutral", True)
        c2 = conversation("c2", "B", "telegram", at(3, 10))
        said(c2, at(3, 10), "answer", "refund", "anxiety", True)
        said(c2, at(3, 10, 5), "no_answer", None, "sadness", True)
        said(c2, at(3, 10, 30), "clarify", None, "joy", True)
        c3 = conversation("c3", "B", "wechat", at(10, 8))
        said(c3, at(10, 8), "answer", "hours", "anger", True)
        said(c3, at(10, 8, 1), "handoff", None, "anger", False)
        c4 = conversation("c4", "C", "web", at(11, 12))
        said(c4, at(11, 12), "answer", "track", "neutral", True)
        said(c4, at(11, 12, 5), "answer", "hours", "joy", True)
        c5 = conversation("c5", "C", "telegram", at(12, 9))
        said(c5, at(12, 9), "no_answer", None, "sadness", True)
        c7 = conversation("c7", "D", "web", at(4, 9))
        said(c7, at(4, 9), "answer", "refund", "anger", True)

        def handoff(name: str, conv: Conversation, reason: str, requested: datetime, **values) -> None:
            row = Handoff(
                conversation_id=conv.id,
                customer_id=conv.customer_id,
                reason=reason,
                requested_at=requested,
                summary=f"summary of {name}",
                **values,
            )
            session.add(row)
            session.flush()
            made.handoffs[name] = row.id

        handoff("h1", c1, "anger", at(2, 9, 20), status="resolved", agent="ann", claimed_at=at(2, 9, 25),
                resolved_at=at(2, 9, 50), outcome="resolved", rating=5)  # fmt: skip
        handoff("h2", c3, "keyword", at(10, 8, 1), status="resolved", agent="bob", claimed_at=at(10, 8, 21),
                resolved_at=at(10, 10, 1), outcome="resolved", rating=2)  # fmt: skip
        handoff("h3", c3, "keyword", at(10, 11))
        handoff("h4", c7, "anger", at(4, 9), status="resolved", agent="ann", claimed_at=at(4, 9, 1),
                resolved_at=at(4, 9, 30), outcome="resolved", rating=1)  # fmt: skip
        session.add(Note(customer_id=people["B"].id, author="console:ann", text="prefers WeChat"))
        session.add(
            OutboxMessage(
                customer_id=people["B"].id,
                conversation_id=c2.id,
                platform="telegram",
                platform_user_id="555",
                text="您好",
                status="failed",
                attempts=5,
                last_error="403 blocked",
            )
        )
    CustomerRepository(db).forget(made.customers["D"], actor="test")
    return made
