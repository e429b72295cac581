"""Inputs that used to give a 500 or a surprise: huge cursors, LIKE wildcards, endless display names."""

from __future__ import annotations

import uuid

import httpx

from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import CustomerRepository
from storage.models import MAX_DISPLAY_NAME_CHARS


def test_an_updates_cursor_past_any_row_id_is_a_clear_422(live_server):
    response = httpx.get(
        f"{live_server.url}/api/chat/updates", params={"session_id": uuid.uuid4().hex, "after": str(2**70)}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "after"]


def test_a_percent_sign_finds_only_names_with_a_percent_sign(database):
    log = ConversationLog(database)
    for user, name in (("u1", "Ann"), ("u2", "Bo_b"), ("u3", "100% Tom")):
        log.record_exchange("telegram", user, user, name, LoggedMessage("in", "hi"), [])
    customers = CustomerRepository(database)

    assert [c.display_name for c in customers.find("%")] == ["100% Tom"]
    assert [c.display_name for c in customers.find("_")] == ["Bo_b"]


def test_a_100000_character_display_name_is_stored_capped(database):
    log = ConversationLog(database)
    exchange = log.record_exchange("telegram", "long", "long", "N" * 100_000, LoggedMessage("in", "hi"), [])
    [customer] = CustomerRepository(database).find(str(exchange.customer_id))
    assert customer.display_name == "N" * MAX_DISPLAY_NAME_CHARS
