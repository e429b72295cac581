from knowledge.entry import FaqEntry
from storage.faqs import FaqRepository, UnknownFaq


def entry(faq_id: str = "refund_time", answer: str = "3-5 business days", **extra) -> FaqEntry:
    return FaqEntry(id=faq_id, questions=["How long does a refund take?", "退款多久到账"], answer_en=answer, **extra)


def test_every_change_is_a_revision_with_author_and_full_content(database):
    faqs = FaqRepository(database)
    faqs.save(entry(), author="alice")
    faqs.save(entry(answer="5-7 business days"), author="bob", note="bank holidays")

    history = faqs.history("refund_time")

    assert [(r.revision, r.action, r.author) for r in history] == [(1, "create", "alice"), (2, "update", "bob")]
    assert history[0].entry.answer_en == "3-5 business days"
    assert history[1].entry.answer_en == "5-7 business days"
    assert history[1].note == "bank holidays"


def test_saving_identical_content_adds_no_revision(database):
    faqs = FaqRepository(database)
    faqs.save(entry(), author="alice")
    report = faqs.save_many([entry()], author="alice")

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert len(faqs.history("refund_time")) == 1


def test_rollback_restores_old_content_as_a_new_revision(database):
    faqs = FaqRepository(database)
    faqs.save(entry(), author="alice")
    faqs.save(entry(answer="wrong answer"), author="bob")

    restored = faqs.rollback("refund_time", 1, author="carol")

    assert restored.answer_en == "3-5 business days"
    assert faqs.get("refund_time").answer_en == "3-5 business days"
    assert [r.action for r in faqs.history("refund_time")] == ["create", "update", "rollback"]


def test_removed_entry_keeps_history_and_can_come_back(database):
    faqs = FaqRepository(database)
    faqs.save(entry(tags=["refunds"]), author="alice")
    faqs.remove("refund_time", author="bob")

    assert faqs.get("refund_time") is None
    assert [r.action for r in faqs.history("refund_time")] == ["create", "remove"]
    faqs.rollback("refund_time", 1, author="bob")
    assert faqs.get("refund_time").tags == ["refunds"]


def test_removing_or_rolling_back_an_unknown_entry_is_a_clear_error(database):
    faqs = FaqRepository(database)
    for action in (lambda: faqs.remove("nope", author="x"), lambda: faqs.rollback("nope", 1, author="x")):
        try:
            action()
        except UnknownFaq:
            continue
        raise AssertionError("expected UnknownFaq")


def test_version_grows_with_each_change_so_a_running_server_notices_edits(database):
    faqs = FaqRepository(database)
    assert faqs.version() == 0 and not faqs.has_history()
    faqs.save(entry(), author="alice")
    first = faqs.version()
    faqs.save(entry(answer="changed"), author="alice")
    assert faqs.version() > first and faqs.has_history()
