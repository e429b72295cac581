from __future__ import annotations

from bot.kb_topics import HelpTopics, chinese_label, top_tags
from bot.texts import DEFAULT_TEXTS
from knowledge.entry import FaqEntry

ENTRIES = [
    FaqEntry("roam_on", ["国际漫游怎么开通？", "How do I turn on roaming?"], answer="a", tags=["roaming"]),
    FaqEntry("roam_price", ["漫游资费是多少？", "How much is roaming?"], answer="b", tags=["roaming", "prices"]),
    FaqEntry("bill", ["账单在哪里看？", "Where is my bill?"], answer="c", tags=["billing"]),
    FaqEntry("bill_due", ["账单几号出？", "When is the bill issued?"], answer="d", tags=["billing"]),
]


class _Knowledge:
    def __init__(self, entries):
        self._entries = entries

    def entries(self):
        return self._entries


def test_topics_are_the_most_used_tags_first():
    assert top_tags(ENTRIES, 2) == ["roaming", "billing"]


def test_a_tag_is_shown_in_chinese_as_the_word_its_entries_share():
    assert chinese_label("roaming", ENTRIES) in ("漫游", "国际漫游")  # whole words only, never a bigram
    assert chinese_label("billing", ENTRIES) == "账单"


def test_help_topics_follow_the_knowledge_base_and_the_business_own_wording_wins():
    knowledge = _Knowledge(list(ENTRIES))
    topics = HelpTopics(knowledge, DEFAULT_TEXTS, {"en": "", "zh": ""}, limit=2)
    assert topics("en") == "roaming, billing" and topics("zh") in ("漫游、账单", "国际漫游、账单")
    knowledge._entries = ENTRIES[2:]
    assert topics("en") == "billing"
    assert HelpTopics(knowledge, DEFAULT_TEXTS, {"en": "our shoes"})("en") == "our shoes"
