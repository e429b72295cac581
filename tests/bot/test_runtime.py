from __future__ import annotations

import pytest

from bot.business import BusinessFileError
from bot.runtime import Runtime, _knowledge_refresher, background_questions
from bot.settings import Settings
from knowledge.entry import FaqEntry
from storage.faqs import FaqRepository


def test_a_restart_skips_the_full_knowledge_sync_unless_the_faq_changed(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    Runtime.open(settings).close()

    reads = []
    original = FaqRepository.all
    monkeypatch.setattr(FaqRepository, "all", lambda self: reads.append(1) or original(self))
    Runtime.open(settings).close()
    assert reads == []

    runtime = Runtime.open(settings)
    runtime.faqs.save(
        FaqEntry("gift_wrap", ["Do you offer gift wrapping?", "可以礼品包装吗"], answer_en="Yes, for ¥5."), "test"
    )
    runtime.close()
    restarted = Runtime.open(settings)
    assert reads and restarted.knowledge.search("can you gift wrap my order").top == "gift_wrap"
    restarted.close()


def test_a_damaged_vector_index_is_rebuilt_at_start_up_even_when_its_snapshot_is_current(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path)
    Runtime.open(settings).close()
    Runtime.open(settings).close()  # this restart takes the start-up snapshot
    (tmp_path / "chroma" / "chroma.sqlite3").write_bytes(b"\0" * 4096)

    restarted = Runtime.open(settings)
    assert "rebuilding it from the database" in caplog.text
    restarted.knowledge.upsert(FaqEntry("gift_wrap", ["Do you offer gift wrapping?"], answer_en="Yes, for ¥5."))
    assert restarted.knowledge.search("can you gift wrap my order").top == "gift_wrap"
    restarted.close()


def test_the_elsewhere_file_setting_picks_the_background_or_turns_it_off(tmp_path):
    assert len(background_questions(Settings(data_dir=tmp_path))) > 100  # the bundled file
    assert background_questions(Settings(data_dir=tmp_path, elsewhere_file="")) == []
    own = tmp_path / "mine.toml"
    own.write_text('[en]\nquestions = ["what is the weather", "tell me a joke"]\n', encoding="utf-8")
    assert background_questions(Settings(data_dir=tmp_path, elsewhere_file=str(own))) == [
        "what is the weather",
        "tell me a joke",
    ]
    with pytest.raises(BusinessFileError, match="WARMDESK_ELSEWHERE_FILE"):
        background_questions(Settings(data_dir=tmp_path, elsewhere_file=str(tmp_path / "missing.toml")))


def test_the_knowledge_refresher_leaves_an_import_in_progress_to_its_job_and_syncs_what_changed_after():
    class Faqs:
        revision = 1

        def version(self):
            return self.revision

        def changes_since(self, version):
            return self.revision - version

        def all(self):
            return ["entries"]

    class Knowledge:
        def __init__(self):
            self.importing, self.synced = False, []

        def sync(self, entries, **options):
            self.synced.append(options)

    faqs, knowledge = Faqs(), Knowledge()
    refresh = _knowledge_refresher(faqs, knowledge, 0)
    knowledge.importing, faqs.revision = True, 3  # an import job has saved two entries and will sync them itself
    refresh()
    assert knowledge.synced == []
    knowledge.importing = False
    refresh()
    assert knowledge.synced == [{"keep_serving": True, "background": False}]  # a few changes: inline, as before
