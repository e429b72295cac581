"""The customer list search and the customer page's data, on the hand-made history (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from storage.customer360 import CustomerSearch, customer_360, search_customers
from storage.emotions import EmotionStore
from tests.insights import fixture


@pytest.fixture
def made(database):
    return fixture.build(database)


def names(database, **search) -> list[str]:
    return [row.name for row in search_customers(database, CustomerSearch(**search)).rows]


def test_the_list_finds_customers_by_name_identity_phone_email_and_id(database, made):
    assert names(database, query="car") == ["Carl"]
    assert names(database, query="o-wangbo") == ["王波"]  # a WeChat user id
    assert names(database, query="+8613800000000") == ["王波"]
    assert names(database, query="ALICE@example.com") == ["Alice"]
    assert names(database, query=f"#{made.customers['C']}") == ["Carl"]
    assert names(database, query="Dora") == []  # forgotten


def test_the_list_filters_by_channel_tier_and_at_risk_and_pages(database, made):
    assert sorted(names(database, channel="telegram")) == ["Carl", "王波"]
    assert names(database, tier="vip") == ["王波"]
    assert names(database, at_risk=True) == []
    EmotionStore(database).flag_at_risk(made.conversations["c5"])
    assert names(database, at_risk=True) == ["Carl"]
    assert sorted(names(database, at_risk=False)) == ["Alice", "王波"]
    first, second = (search_customers(database, CustomerSearch(per_page=2, page=p)) for p in (1, 2))
    assert (first.total, len(first.rows), len(second.rows)) == (3, 2, 1)
    assert {r.name for r in first.rows} | {r.name for r in second.rows} == {"Alice", "Carl", "王波"}
    assert search_customers(database, CustomerSearch(query="Carl")).rows[0].channels == ("telegram", "web")


def test_the_customer_page_has_identities_timeline_transcripts_handoffs_notes_and_failed_deliveries(database, made):
    view = customer_360(database, made.customers["B"], viewer="console:ann")
    assert sorted((i.platform, i.platform_user_id) for i in view.identities) == [
        ("telegram", "555"),
        ("wechat", "o-wangbo"),
    ]
    assert [p.label for p in view.emotion_timeline] == ["anxiety", "sadness", "joy", "anger", "anger"]
    assert [t.conversation.platform for t in view.conversations] == ["wechat", "telegram"]  # newest first
    assert [m.direction for m in view.conversations[1].messages] == ["in", "out", "in", "out", "in", "out"]
    assert [(h.reason, h.rating) for h in view.handoffs] == [("keyword", None), ("keyword", 2)]
    assert view.handoffs[1].summary == "summary of h2"
    assert [n.text for n in view.notes] == ["prefers WeChat"]
    assert [(d.platform, d.last_error) for d in view.failed_deliveries] == [("telegram", "403 blocked")]
    assert view.flags == {"at_risk": False, "open_alert": False, "failed_deliveries": True}


def test_the_page_puts_the_viewers_own_notes_first(database, made):
    from storage.customers import CustomerRepository

    repository = CustomerRepository(database)
    repository.add_note(made.customers["B"], "console:bob", "called back")
    assert [n.author for n in customer_360(database, made.customers["B"], viewer="console:ann").notes] == [
        "console:ann",
        "console:bob",
    ]
    assert [n.author for n in customer_360(database, made.customers["B"]).notes] == ["console:bob", "console:ann"]


def test_a_forgotten_or_unknown_customer_has_no_page(database, made):
    assert customer_360(database, made.customers["D"]) is None
    assert customer_360(database, 999_999) is None
