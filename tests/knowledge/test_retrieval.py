from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase, open_chroma_client
from knowledge.decision import decide
from knowledge.entry import FaqEntry
from knowledge.io import load_entries
from knowledge.lexical import tokenize
from tests.knowledge.conftest import CountingEmbedder


@pytest.fixture
def kb(faq, embedder) -> KnowledgeBase:
    return KnowledgeBase.in_memory(faq, embedder)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I can't remember my password, how can I reset it?", "reset-password"),
        ("can I have my money returned", "refund"),
        ("密码忘了怎么重置", "reset-password"),
        ("我想退款", "refund"),
        ("收货地址填错了，怎么改", "change-address"),
    ],
)
def test_paraphrase_finds_the_entry(kb, text, expected):
    result = kb.search(text)
    assert result.decision == "answer", result
    assert result.faq_id == expected
    assert 0.0 <= result.score <= 1.0
    assert result.candidates[0].faq_id == expected


def test_unrelated_question_abstains(kb):
    result = kb.search("What is the capital of Mongolia and how tall is its tallest mountain?")
    assert result.decision == "no_answer"
    assert result.faq_id is None


def test_two_close_entries_ask_to_clarify(embedder):
    entries = [
        FaqEntry("cancel-order", ["How do I cancel my order?", "Cancel an order"], answer="Orders > Cancel."),
        FaqEntry("cancel-plan", ["How do I cancel my subscription?", "Cancel my plan"], answer="Plan > Cancel."),
        FaqEntry("opening-hours", ["What are your opening hours?"], answer="9-18."),
    ]
    kb = KnowledgeBase.in_memory(entries, embedder)
    result = kb.search("How do I cancel?")
    assert result.decision == "clarify", result
    assert result.faq_id is None
    assert {c.faq_id for c in result.candidates} == {"cancel-order", "cancel-plan"}
    assert kb.search("How do I cancel my subscription plan?").faq_id == "cancel-plan"


def test_query_vector_from_the_engine_is_used(kb, embedder):
    vector = embedder.query("how do I get a refund")
    assert kb.search("how do I get a refund", query_vector=vector).faq_id == "refund"


def test_editing_one_entry_embeds_only_that_entry(kb, faq, embedder):
    embedder.embedded.clear()
    edited = FaqEntry(**{**faq[1].to_dict(), "questions": [*faq[1].questions, "Can I return an item?"]})
    kb.upsert(edited)
    assert embedder.embedded == ["Can I return an item?"]
    assert kb.entry("refund").questions[-1] == "Can I return an item?"

    embedder.embedded.clear()
    report = kb.sync([*faq[:1], edited, *faq[2:]])
    assert embedder.embedded == []
    assert report.unchanged == len(faq) and not report.changed


def test_answer_edit_keeps_question_vectors(kb, faq, embedder):
    embedder.embedded.clear()
    kb.upsert(FaqEntry(**{**faq[0].to_dict(), "answer_en": "New answer"}))
    assert embedder.embedded == []
    assert kb.entry("reset-password").answer_en == "New answer"


def test_remove_and_sync_report(kb, faq):
    kb.remove("refund")
    assert kb.entry("refund") is None and len(kb) == len(faq) - 1
    assert kb.search("I want my money back").faq_id != "refund"
    report = kb.sync(faq[2:])
    assert (report.removed, report.unchanged, report.added) == (1, len(faq) - 2, 0)
    assert sorted(e.id for e in kb.entries()) == sorted(e.id for e in faq[2:])


def test_restart_with_persistent_chroma_embeds_nothing(tmp_path, faq, embedder):
    first = KnowledgeBase(open_chroma_client(tmp_path, None), embedder)
    report = first.sync(faq)
    assert report.added == len(faq)
    del first

    embedder.embedded.clear()
    restarted = KnowledgeBase(open_chroma_client(tmp_path, None), embedder)
    assert len(restarted) == len(faq)
    report = restarted.sync(faq)
    assert embedder.embedded == []
    assert report.unchanged == len(faq) and not report.changed
    assert restarted.entry("refund") == faq[1]
    assert restarted.search("我想退款").faq_id == "refund"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "a" * 10_000, "退款" * 5_000, "😀😀🙏", "\x00\x01\x1b[31m\u200b", "?!", "\ud800"[:0] + "\u202e"],
)
def test_hostile_input_returns_a_decision(kb, text):
    result = kb.search(text)
    assert result.decision in ("answer", "clarify", "no_answer")
    assert 0.0 <= result.score <= 1.0


def test_empty_kb_says_no_answer(embedder):
    kb = KnowledgeBase.in_memory([], embedder)
    result = kb.search("hello")
    assert result.decision == "no_answer" and result.top is None and len(kb) == 0


DEMO_KB = Path(__file__).resolve().parents[2] / "knowledge" / "demo_kb.jsonl"


@pytest.fixture(scope="module")
def demo_kb(vector_memo) -> KnowledgeBase:
    return KnowledgeBase.in_memory(load_entries(DEMO_KB).entries, CountingEmbedder(vector_memo))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("points", {"points_earn", "points_redeem", "points_expiry"}),
        ("invoice", {"invoice_request", "invoice_company_vat", "invoice_change"}),
        ("积分", {"points_earn", "points_redeem", "points_expiry"}),
    ],
)
def test_one_word_question_shared_by_several_entries_asks_which(demo_kb, text, expected):
    result = demo_kb.search(text)
    assert result.decision == "clarify", result
    candidates = {c.faq_id for c in result.candidates}
    assert len(candidates) >= 2 and candidates <= expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what can I use my points for?", "points_redeem"),
        ("积分怎么用", "points_redeem"),
        ("how do I get an invoice", "invoice_request"),
        ("I want to talk to a real person", "human_agent"),
    ],
)
def test_demo_paraphrases_answer(demo_kb, text, expected):
    result = demo_kb.search(text)
    assert (result.decision, result.faq_id) == ("answer", expected), result


def test_classifier_kb_is_calibrated_on_its_own_questions(demo_kb):
    state = demo_kb._current_state()
    assert state.ranker.has_classifier and state.rule is not None
    result = demo_kb.search("What is the capital of Mongolia and how tall is its tallest mountain?")
    assert result.decision == "no_answer"


def test_passage_views_survive_a_restart(tmp_path, embedder):
    entries = load_entries(DEMO_KB).entries[:12]
    first = KnowledgeBase(open_chroma_client(tmp_path, None), embedder)
    first.sync(entries)
    questions = [q for entry in entries for q in entry.questions]
    assert sorted(embedder.embedded) == sorted(questions * 2)  # a "query:" and a "passage:" view each
    del first

    embedder.embedded.clear()
    restarted = KnowledgeBase(open_chroma_client(tmp_path, None), embedder)
    assert not restarted.sync(entries).changed and embedder.embedded == []
    assert restarted._current_state().rule is not None
    edited = FaqEntry(**{**entries[0].to_dict(), "questions": [*entries[0].questions, "Where's my stuff?"]})
    restarted.upsert(edited)
    assert embedder.embedded == ["Where's my stuff?", "Where's my stuff?"]


@pytest.mark.parametrize("text", ["怎么申请退款", "How do I get a refund?", "我要退款", "能退款吗"])
def test_demo_refund_requests_find_the_refund_entry_not_the_refund_method(demo_kb, text):
    result = demo_kb.search(text)
    assert (result.decision, result.faq_id) == ("answer", "refund_request"), result


def test_a_likely_but_unsure_answer_carries_the_entries_to_confirm(demo_kb):
    state = demo_kb._current_state()
    scores = state.ranker.score(tokenize("咋退货"), demo_kb._embedder.query("咋退货"))
    unsure = decide(scores, state.entry_ids, demo_kb.settings, state.rule)
    assert unsure.decision == "answer" and unsure.score < demo_kb.settings.confirm_below
    assert unsure.confirm and unsure.confirm[0].faq_id == unsure.faq_id == "returns_how_to"

    without = decide(scores, state.entry_ids, replace(demo_kb.settings, confirm_below=0.0), state.rule)
    assert (without.decision, without.faq_id, without.confirm) == ("answer", "returns_how_to", [])
    sure = demo_kb.search("how do I reset my password")
    assert sure.decision == "answer" and sure.score >= demo_kb.settings.confirm_below and sure.confirm == []


def test_an_excluded_entry_is_never_the_answer_and_the_others_are_still_ranked(kb):
    question = "I can't remember my password, how can I reset it?"
    assert kb.search(question).faq_id == "reset-password"
    without = kb.search(question, exclude=["reset-password"])
    assert without.top != "reset-password"
    assert "reset-password" not in [c.faq_id for c in without.candidates[:3]]
    assert without.candidates  # the rest of the KB is still searched
