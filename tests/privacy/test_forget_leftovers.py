"""What today's `customer forget` left behind: link codes, mailbox rows, the WAL, audit lines, access-log URLs."""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from adapters.privacy_http import RedactedAccessLog, redact_path
from adapters.slack_copies import SlackCopies
from bot.privacy import housekeeping
from bot.privacy.copies import CopiesRemoved, remove_copies
from bot.privacy.stage import EXPORT_LINK_KIND
from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import CustomerRepository
from storage.db import Database
from storage.handoffs import HandoffRepository
from storage.identity_links import IdentityLinks
from storage.models import LinkCode, OutboxMessage, utcnow
from storage.privacy import PrivacyStore
from storage.staff_drafts import DraftRepository
from tests.privacy.helpers import files_holding


def first_message(db: Database, platform: str, user: str, text: str) -> int:
    return ConversationLog(db).record_exchange(platform, user, user, "Mei", LoggedMessage("in", text), []).customer_id


def test_forget_removes_link_codes_and_web_mailbox_rows_keyed_by_the_customers_accounts(database):
    customer = first_message(database, "telegram", "tg-777001", "hello")
    IdentityLinks(database).issue("telegram", "tg-777001")
    with database.session() as session:  # a mailbox row that never pointed at the customer
        session.add(OutboxMessage(platform="telegram", platform_user_id="tg-777001", text="queued before linking"))

    assert CustomerRepository(database).forget(customer, actor="cli")

    with database.session() as session:
        assert session.exec(select(LinkCode)).all() == []
        assert session.exec(select(OutboxMessage).where(OutboxMessage.platform_user_id == "tg-777001")).all() == []


def test_the_export_holds_the_audit_lines_about_the_customer(database):
    customers = CustomerRepository(database)
    customer = first_message(database, "web", "web-export-audit", "hi")
    customers.audit("slack:U1", "customer.lookup", f"customer:{customer}", {"query": "Mei"})
    customers.audit("slack:U1", "customer.lookup", f"customer:{customer}9", {"query": "someone else"})
    exported = customers.export(customer, actor="cli")
    assert [(a["actor"], a["action"]) for a in exported["accesses"]] == [("slack:U1", "customer.lookup")]


def test_forget_leaves_nothing_in_the_sqlite_file_or_its_wal_while_connections_stay_open(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'warmdesk.db'}")
    db.migrate()
    customer = first_message(db, "wechat", "oWALmarker55120", "my phone is marker-13855507731")
    assert files_holding(["marker-13855507731"], [tmp_path])  # it is there before

    CustomerRepository(db).forget(customer, actor="cli")

    assert files_holding(["marker-13855507731", "oWALmarker55120"], [tmp_path]) == {}
    db.dispose()


def test_access_log_lines_lose_query_strings_and_export_tokens():
    assert redact_path("/wechat?signature=abc&timestamp=1&nonce=2&openid=oX") == "/wechat?[redacted]"
    assert redact_path("/api/chat/updates?session_id=s1&after=3") == "/api/chat/updates?[redacted]"
    assert redact_path("/privacy/export/Tok-en_123") == "/privacy/export/[redacted]"
    assert redact_path("/healthz") == "/healthz"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/wechat?openid=oSecret", "1.1", 200),
        None,
    )
    assert RedactedAccessLog().filter(record)
    assert "oSecret" not in record.getMessage() and "/wechat?[redacted]" in record.getMessage()


def test_a_download_link_waiting_in_the_outbox_loses_its_key_once_delivered_or_expired(database):
    now = utcnow()
    text = "Download: https://desk.example.com/privacy/export/Secret_Token-1 (works once, 30 minutes)."

    def row(status: str, age_minutes: float) -> int:
        with database.session() as session:
            added = OutboxMessage(
                platform="wechat", platform_user_id="o-link", text=text, kind=EXPORT_LINK_KIND, status=status
            )
            added.created_at = now - timedelta(minutes=age_minutes)
            session.add(added)
            session.flush()
            return added.id

    delivered, expired, waiting = row("delivered", 1), row("pending", 31), row("pending", 1)

    housekeeping.tidy(database, PrivacyStore(database), link_minutes=30, now=now)

    with database.session() as session:
        rows = {r.id: r for r in session.exec(select(OutboxMessage)).all()}
    assert rows[delivered].text == "Download: [one-time link] (works once, 30 minutes)."
    assert rows[expired].status == "failed" and "Secret_Token" not in rows[expired].text
    assert rows[waiting].status == "pending" and rows[waiting].text == text  # still on its way: untouched


def test_a_new_handoff_with_a_deleted_ones_number_gets_its_own_desk_thread_and_audit_history(database):
    """SQLite numbers a new row after the highest one left: a deleted customer's handoff and record numbers come
    back. Their Slack thread and audit lines must not become the next customer's."""
    handoffs, customers = HandoffRepository(database), CustomerRepository(database)

    def customer_with_handoff(user: str) -> tuple[int, int]:
        exchange = ConversationLog(database).record_exchange("web", user, user, None, LoggedMessage("in", "hi"), [])
        handoff, _ = handoffs.start(exchange.conversation_id, exchange.customer_id, "request", {})
        return exchange.customer_id, handoff.id

    first, first_handoff = customer_with_handoff("web-reuse-first")
    handoffs.save_thread(first_handoff, "slack", "C1", "1700000001.000100")
    customers.audit("console:amy", "customer.view", f"customer:{first}")
    customers.forget(first, actor="customer")

    second, second_handoff = customer_with_handoff("web-reuse-second")
    handoffs.save_thread(second_handoff, "slack", "C1", "1700000002.000100")

    assert handoffs.thread_for(second_handoff, "slack").thread_id == "1700000002.000100"
    assert PrivacyStore(database).staff_accesses(second) == []
    assert PrivacyStore(database).desk_copies(second).threads == {"slack": [("C1", "1700000002.000100")]}


def test_a_database_error_logged_with_its_traceback_carries_no_customer_text(database):
    with database.session() as session:
        session.add(OutboxMessage(platform="web", platform_user_id="w", text="first", dedup_key="same-key"))
    try:
        with database.session() as session:
            session.add(
                OutboxMessage(platform="web", platform_user_id="oLeak", text="marker-in-error", dedup_key="same-key")
            )
    except Exception as error:  # what log.exception would write
        assert "marker-in-error" not in str(error) and "oLeak" not in str(error)
    else:
        raise AssertionError("the duplicate key was accepted")


def test_forget_drops_the_pending_faq_drafts_made_of_the_customers_question(database):
    exchange = ConversationLog(database).record_exchange(
        "web", "web-draft-user", "web-draft-user", None, LoggedMessage("in", "hi"), []
    )
    handoff, _ = HandoffRepository(database).start(exchange.conversation_id, exchange.customer_id, "request", {})
    drafts = DraftRepository(database)
    drafts.propose("Can I pay marker-draft-question by cheque?", "No, only card.", "en", f"handoff:{handoff.id}")
    drafts.propose("Someone else's question?", "Yes.", "en", f"handoff:{handoff.id + 1000}")

    CustomerRepository(database).forget(exchange.customer_id, actor="customer")

    assert [d.question for d in drafts.pending()] == ["Someone else's question?"]


def test_slack_unreachable_the_deletion_goes_ahead_and_what_is_there_is_counted_as_kept():
    unreachable = AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/", timeout=2)
    threads = {"slack": [("C1", "1700000001.000100"), ("C1", "1700000002.000100")], "console": [("console", "1")]}
    assert remove_copies({"slack": SlackCopies(unreachable)}, threads) == CopiesRemoved(removed=0, kept=2)
    assert remove_copies({}, threads) == CopiesRemoved(removed=0, kept=2)  # Slack since turned off
