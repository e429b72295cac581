"""The "elsewhere" background: off-topic questions near an entry are out of scope, a KB that covers the topic wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase, open_chroma_client
from knowledge.elsewhere import DEFAULT_BACKGROUND_FILE, load_background
from knowledge.entry import FaqEntry
from knowledge.io import load_entries
from tests.knowledge.conftest import CountingEmbedder

DEMO_KB = Path(__file__).resolve().parents[2] / "knowledge" / "demo_kb.jsonl"
# Near the demo store's shipping-times entry (answered at ~0.5 without the background), but about the weather
NEAR_AN_ENTRY = "明天杭州会不会下雨啊"
JOKE = "could you tell me a really funny joke about cats"


@pytest.fixture(scope="module")
def background() -> list[str]:
    return load_background()


@pytest.fixture
def store(embedder, background) -> KnowledgeBase:
    return KnowledgeBase.in_memory(load_entries(DEMO_KB).entries, embedder, background=background)


def test_an_off_topic_question_near_an_entry_is_out_of_scope(store, embedder):
    without = KnowledgeBase.in_memory(load_entries(DEMO_KB).entries, embedder)
    assert without.search(NEAR_AN_ENTRY).decision == "answer"  # what the background is there to prevent

    result = store.search(NEAR_AN_ENTRY)
    assert result.decision == "no_answer"
    assert result.faq_id is None
    assert result.out_of_scope and result.elsewhere


def test_a_short_message_that_may_lean_on_the_previous_question_is_not_marked_elsewhere(store):
    result = store.search("明天呢")  # "and tomorrow?": a follow-up of whatever was asked before
    assert result.decision == "no_answer" and not result.elsewhere


@pytest.mark.parametrize("text", ["how do I track my order", "我的快递到哪了", "how long does delivery take"])
def test_the_business_own_questions_are_still_answered(store, text):
    result = store.search(text)
    assert result.decision == "answer", result
    assert not result.elsewhere


def test_a_kb_that_covers_the_topic_still_answers_it(embedder, background):
    assert any("weather" in question for question in background)  # the topic is in the background
    entries = [
        FaqEntry("forecast", ["What will the weather be like tomorrow?", "明天天气怎么样"], answer="See the forecast."),
        FaqEntry("storm", ["Are tours cancelled when a storm is coming?", "台风天还出团吗"], answer="Yes."),
        FaqEntry("booking", ["How do I book a tour?", "怎么预订行程"], answer="Online."),
    ]
    kb = KnowledgeBase.in_memory(entries, embedder, background=background)
    for text in ("what's the weather forecast for tomorrow", "明天会下雨吗"):
        result = kb.search(text)
        assert (result.decision, result.faq_id) == ("answer", "forecast"), (text, result)


def test_the_background_is_embedded_once_and_kept_with_the_index(tmp_path, vector_memo):
    entries = [FaqEntry("hours", ["When are you open?"], answer="9-18.")]
    questions = ["what's the weather tomorrow", "tell me a joke", "帮我写一首诗"]
    first = CountingEmbedder(vector_memo)
    kb = KnowledgeBase(open_chroma_client(tmp_path), first)
    kb.set_background(questions)
    kb.sync(entries)
    assert set(questions) <= set(first.embedded)

    again = CountingEmbedder(vector_memo)
    restarted = KnowledgeBase(open_chroma_client(tmp_path), again)
    restarted.set_background(questions)
    restarted.sync(entries)
    assert again.embedded == []  # a restart embeds nothing
    assert restarted.search(JOKE).elsewhere

    edited = CountingEmbedder(vector_memo)
    third = KnowledgeBase(open_chroma_client(tmp_path), edited)
    third.set_background([*questions[:2], "who won the match last night"])
    assert edited.embedded == ["who won the match last night"]  # only the changed line
    third.set_background([])
    assert not third.search(JOKE).elsewhere  # an empty background turns the check off


def test_the_bundled_background_has_both_languages():
    questions = load_background(DEFAULT_BACKGROUND_FILE)
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in q) for q in questions) >= 50
    assert sum(q.isascii() for q in questions) >= 50


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[en]\nquestions = [1, 2]\n", "list of strings"),
        ("[en]\nphrases = ['x']\n", "exactly one key"),
        ("[en\n", "cannot read"),
    ],
)
def test_a_bad_background_file_is_named_with_its_problem(tmp_path, content, problem):
    path = tmp_path / "elsewhere.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_background(path)
