"""Grounded answers through the real engine, the openai SDK and langchain, against the fake server on loopback."""

from __future__ import annotations

import json

from sqlmodel import select

from benchmarks.fake_llm_server import OPENERS, Reply, grounded, payload_of, system_text
from bot.policy import Decision
from storage.llm_usage import LlmUsageRepository
from storage.models import Message
from tests.llm.conftest import answer_requests, ask, offline_plan

QUESTIONS = {
    "en": [
        "How do I track my order?",
        "How long does shipping take?",
        "How much is shipping?",
        "How do I return an item?",
        "When will I get my refund?",
        "Which payment methods do you accept?",
        "How do I reset my password?",
        "How do I earn points?",
        "Can I get an invoice?",
        "When is customer service open?",
    ],
    "zh": ["我的快递到哪了？", "运费多少钱？", "退款多久到账？", "怎么开发票？", "积分怎么获得？"],
}


def strong_entry(request) -> dict:
    return next(e for e in payload_of(request)["entries"] if e["match"] == "strong")


def test_a_confident_answer_is_composed_from_the_entry_names_it_and_is_logged_with_its_faq_id(fake, llm_runtime):
    reply = ask(llm_runtime, "How do I track my order?")
    assert reply.decision == Decision.ANSWER and reply.faq_id == "order_track"
    assert reply.replies[0].text.startswith(OPENERS["en"])  # the composed text, not the stored answer alone
    with llm_runtime.db.session() as session:
        logged = session.exec(select(Message).where(Message.conversation_id == reply.conversation_id)).all()
    assert {m.direction: m.faq_id for m in logged} == {"in": "order_track", "out": "order_track"}
    assert [m.text for m in logged if m.direction == "out"] == [reply.replies[0].text]


def test_a_chinese_question_gets_a_chinese_composed_answer(fake, llm_runtime):
    reply = ask(llm_runtime, "我的快递到哪了？")
    assert reply.faq_id == "order_track" and reply.replies[0].text.startswith(OPENERS["zh"])
    assert "Simplified Chinese" in system_text(answer_requests(fake)[-1])


def test_every_reply_that_invents_a_price_falls_back_to_the_plain_faq_answer(fake, llm_runtime):
    def invents_a_price(request):
        entry = strong_entry(request)
        return Reply(json.dumps({"faq_id": entry["id"], "reply": entry["answer"] + " It costs only 9.99 now."}))

    fake.behaviour = invents_a_price
    answered = 0
    for language, questions in QUESTIONS.items():
        for question in questions:
            offline = offline_plan(llm_runtime, question, language)
            if offline.decision != Decision.ANSWER:
                continue
            reply = ask(llm_runtime, question)
            answered += 1
            assert reply.replies[0].text == offline.text and reply.faq_id == offline.faq_id, question
    assert answered >= 10 and len(answer_requests(fake)) == answered


def test_a_promise_the_entry_does_not_make_is_never_sent(fake, llm_runtime):
    def promises(request):
        entry = strong_entry(request)
        return Reply(json.dumps({"faq_id": entry["id"], "reply": "We will refund you today, no questions asked."}))

    fake.behaviour = promises
    offline = offline_plan(llm_runtime, "How do I track my order?", "en")
    reply = ask(llm_runtime, "How do I track my order?", message_id="promise-1")
    assert reply.replies[0].text == offline.text
    llm_runtime.llm.flush()
    calls = LlmUsageRepository(llm_runtime.db).for_message("test", "promise-1")
    assert sorted(c.outcome for c in calls) == ["ok", "rejected"]


def test_when_the_model_says_no_entry_fits_the_no_answer_path_runs(fake, llm_runtime):
    fake.behaviour = lambda request: Reply(json.dumps({"faq_id": None, "reply": ""}))
    reply = ask(llm_runtime, "How do I track my order?")
    assert reply.decision == Decision.NO_ANSWER and reply.faq_id is None
    assert reply.replies[0].text == llm_runtime.engine.texts.say("no_answer", "en")


def test_when_retrieval_is_unsure_the_model_may_pick_one_of_the_close_entries(fake, llm_runtime):
    question = "points"  # a one-word question: retrieval asks which entry is meant
    assert offline_plan(llm_runtime, question, "en").decision == Decision.CLARIFY

    def picks_the_last(request):
        entry = payload_of(request)["entries"][-1]
        assert all(e["match"] == "possible" for e in payload_of(request)["entries"])
        return Reply(json.dumps({"faq_id": entry["id"], "reply": entry["answer"]}))

    fake.behaviour = picks_the_last
    reply = ask(llm_runtime, question)
    cited = payload_of(answer_requests(fake)[-1])["entries"][-1]
    assert reply.decision == Decision.ANSWER and reply.faq_id == cited["id"]

    fake.behaviour = grounded  # no strong entry: "none fits", so the customer still gets the choices
    assert ask(llm_runtime, question).decision == Decision.CLARIFY


def test_an_entry_the_model_was_not_given_is_not_cited(fake, llm_runtime):
    fake.behaviour = lambda request: Reply(json.dumps({"faq_id": "gift_card", "reply": "Gift cards never expire."}))
    reply = ask(llm_runtime, "How do I track my order?")
    assert (
        reply.faq_id == "order_track"
        and reply.replies[0].text == offline_plan(llm_runtime, "How do I track my order?", "en").text
    )


def test_a_follow_up_is_sent_with_the_earlier_messages_of_the_conversation(fake, llm_runtime):
    ask(llm_runtime, "How much is shipping?", user="follow-up-user")
    ask(llm_runtime, "How much is shipping to Germany?", user="follow-up-user")
    payload = payload_of(answer_requests(fake)[-1])
    assert payload["conversation"] == ["How much is shipping?"]
    assert payload["message"] == "How much is shipping to Germany?"


def test_phone_numbers_and_emails_are_masked_on_the_wire_and_restored_in_the_reply(fake, llm_runtime):
    def echoes_placeholders(request):
        entry = strong_entry(request)
        return Reply(json.dumps({"faq_id": entry["id"], "reply": entry["answer"] + " We noted [PHONE_1]."}))

    fake.behaviour = echoes_placeholders
    reply = ask(llm_runtime, "How do I reset my password? My phone is 13812345678, email li.lei@example.com")
    sent = json.dumps(answer_requests(fake)[-1], ensure_ascii=False)
    assert "13812345678" not in sent and "li.lei@example.com" not in sent
    assert "[PHONE_1]" in payload_of(answer_requests(fake)[-1])["message"]
    if reply.decision == Decision.ANSWER:
        assert reply.replies[0].text.endswith("We noted 13812345678.")


def test_an_angry_customer_gets_the_acknowledge_first_tone_rule_with_the_emotion_in_the_prompt(fake, llm_runtime):
    ask(llm_runtime, "This is so annoying, how do I track my order?")
    request = answer_requests(fake)[-1]
    payload = payload_of(request)
    assert payload["emotion"]["label"] == "anger" and payload["emotion"]["intensity"] > 0.3
    assert "acknowledges how they feel" in system_text(request) and "No exclamation marks" in system_text(request)
    assert f"intensity {payload['emotion']['intensity']:.2f}" in system_text(request)

    ask(llm_runtime, "我很着急，退款多久到账？")
    assert "anxiety" in system_text(answer_requests(fake)[-1]) and "先用一句简短的话表示理解" in system_text(
        answer_requests(fake)[-1]
    )

    ask(llm_runtime, "How do I track my order?")
    assert "acknowledges how they feel" not in system_text(answer_requests(fake)[-1])


def test_tokens_and_cost_are_logged_per_message_and_per_day(fake, llm_runtime):
    ask(llm_runtime, "Which payment methods do you accept?", message_id="usage-1")
    llm_runtime.llm.flush()
    usage = LlmUsageRepository(llm_runtime.db)
    rows = usage.for_message("test", "usage-1")
    assert len(rows) == 1 and rows[0].purpose == "answer" and rows[0].input_tokens > 100 and rows[0].output_tokens > 0
    today = usage.days()[0]
    assert today.day == rows[0].day and today.tokens >= rows[0].input_tokens + rows[0].output_tokens
