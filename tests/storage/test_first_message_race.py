"""A new customer's first two messages handled at once by two workers: both logged, one customer, no error."""

from __future__ import annotations

import threading

import storage.conversations as conversations
from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import CustomerRepository


def test_the_second_worker_finds_the_identity_created_under_it_and_logs_to_that_customer(database, monkeypatch):
    log = ConversationLog(database)
    first = log.record_exchange("telegram", "u-new", "c", None, LoggedMessage("in", "hi", platform_message_id="1"), [])
    looked_before_the_other_committed = [None]
    real_known = conversations._known

    def known_once_too_early(session, platform, user):
        return (
            looked_before_the_other_committed.pop()
            if looked_before_the_other_committed
            else real_known(session, platform, user)
        )

    monkeypatch.setattr(conversations, "_known", known_once_too_early)
    second = log.record_exchange(
        "telegram", "u-new", "c", None, LoggedMessage("in", "are you there?", platform_message_id="2"), []
    )

    assert not second.duplicate and second.customer_id == first.customer_id
    assert len(CustomerRepository(database).find("u-new")) == 1


def test_first_messages_of_many_new_customers_on_two_threads_at_once_all_log(database):
    log, errors = ConversationLog(database), []
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait()
        for n in range(10):
            try:
                log.record_exchange(
                    "telegram", f"racer-{n}", "c", None, LoggedMessage("in", "hi", platform_message_id=f"{name}{n}"), []
                )
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(len(CustomerRepository(database).find(f"racer-{n}")) == 1 for n in range(10))
