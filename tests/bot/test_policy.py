from __future__ import annotations

from bot.policy import FAQ_CHOICE_PREFIX, NONE_OF_THESE, Decision, plan_reply
from bot.texts import DEFAULT_TEXTS
from knowledge.decision import Candidate, Retrieval
from knowledge.entry import FaqEntry

ENTRIES = {
    "refund": FaqEntry("refund", ["How do I get a refund?"], "", "退款说明", "Refunds go back to your card."),
    "returns": FaqEntry("returns", ["How do I return an item?"], "", "退货说明", "Start a return in My Orders."),
}


def _answer(score: float, confirm: list[str]) -> Retrieval:
    candidates = [Candidate("refund", score), Candidate("returns", 0.2)]
    return Retrieval("answer", "refund", "refund", score, candidates, confirm=[Candidate(c, score) for c in confirm])


def test_a_sure_answer_is_said_outright():
    plan = plan_reply(_answer(0.95, []), "en", ENTRIES.get, DEFAULT_TEXTS)
    assert (plan.decision, plan.faq_id, plan.text) == (Decision.ANSWER, "refund", "Refunds go back to your card.")
    assert plan.likely is None


def test_a_likely_answer_is_offered_to_confirm_instead_of_said():
    plan = plan_reply(_answer(0.6, ["refund"]), "en", ENTRIES.get, DEFAULT_TEXTS)
    assert plan.decision == Decision.CLARIFY and plan.shown_kind == "clarify"
    assert plan.text == DEFAULT_TEXTS.say("confirm", "en") and "Refunds go back" not in plan.text
    assert [c.id for c in plan.choices] == [FAQ_CHOICE_PREFIX + "refund", NONE_OF_THESE]
    assert plan.likely == "refund" and plan.faq_id is None  # the handoff triggers read it as answered


def test_a_likely_answer_with_a_close_runner_up_offers_both_in_chinese():
    plan = plan_reply(_answer(0.6, ["refund", "returns"]), "zh", ENTRIES.get, DEFAULT_TEXTS)
    assert plan.text == DEFAULT_TEXTS.say("clarify", "zh")
    assert [c.id for c in plan.choices][:2] == [FAQ_CHOICE_PREFIX + "refund", FAQ_CHOICE_PREFIX + "returns"]
    assert plan.choices[-1].label == DEFAULT_TEXTS.say("none_of_these", "zh")


def test_an_entry_removed_since_the_search_is_not_offered():
    plan = plan_reply(_answer(0.6, ["refund"]), "en", {"refund": ENTRIES["refund"]}.get, DEFAULT_TEXTS)
    assert [c.id for c in plan.choices] == [FAQ_CHOICE_PREFIX + "refund", NONE_OF_THESE]
    gone = plan_reply(_answer(0.6, ["refund"]), "en", {}.get, DEFAULT_TEXTS)
    assert gone.decision != Decision.ANSWER and not gone.choices
