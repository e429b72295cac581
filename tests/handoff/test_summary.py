from __future__ import annotations

from datetime import UTC, datetime

from bot.handoff.hours import parse_business_hours
from bot.handoff.summary import CustomerFacts, TranscriptLine, build_summary, extract_problem
from bot.handoff.triggers import Reason, TriggerHit

CUSTOMER = CustomerFacts(7, "Ann Lee", "web", "vip", previous_handoffs=2)
TRANSCRIPT = [
    TranscriptLine("in", "Hi there.", "neutral", 0.0),
    TranscriptLine("out", "Hello!", decision="answer", faq_id="greeting"),
    TranscriptLine("in", "My order 123456 never arrived. Where is it?", "anxiety", 0.5),
    TranscriptLine("out", "Track it here...", decision="answer", faq_id="tracking"),
    TranscriptLine("in", "This is useless!!! Get me a human.", "anger", 0.9),
]


def summary(language: str = "en"):
    hit = TriggerHit(Reason.ANGER, {"message": "This is useless!!! Get me a human.", "score": 0.9, "threshold": 0.6})
    titles = {"tracking": "Where is my parcel?"}
    return build_summary(42, CUSTOMER, TRANSCRIPT, hit, titles.get, language)


def test_summary_says_who_why_the_problem_what_was_answered_and_a_first_step():
    text = summary().render()
    assert "Ann Lee" in text and "web" in text and "vip" in text and "previous handoffs: 2" in text
    assert 'anger 0.9 ≥ 0.6 — "This is useless!!! Get me a human."' in text
    assert "> My order 123456 never arrived." in text
    assert "Bot already answered: greeting; Where is my parcel?" in text
    assert "Apologise" in text


def test_customer_text_is_quoted_verbatim():
    assert summary().quoted == [line.text for line in TRANSCRIPT if line.direction == "in"]


def test_sparkline_has_one_bar_per_customer_message_rising_with_negative_emotion():
    bars = summary().sparkline
    assert len(bars) == 3 and bars[0] < bars[1] < bars[2]


def test_agent_side_language_is_a_setting():
    text = summary("zh").render()
    assert "客户原话" in text and "建议第一步" in text


def test_problem_extraction_keeps_request_sentences_in_order_and_drops_bare_requests_for_a_person():
    lines = extract_problem(["你好", "我上周买的耳机还没发货，订单号 883201。", "能不能帮我查一下？", "转人工"])
    assert lines == ["我上周买的耳机还没发货，订单号 883201。", "能不能帮我查一下？"]
    assert 1 <= len(extract_problem(["hello"])) <= 3


def test_business_hours_open_and_closed():
    hours = parse_business_hours("Mon-Fri 09:00-18:00", "Asia/Shanghai")
    assert hours.is_open(datetime(2024, 5, 6, 3, 0, tzinfo=UTC))  # Monday 11:00 in Shanghai
    assert not hours.is_open(datetime(2024, 5, 6, 12, 0, tzinfo=UTC))  # Monday 20:00
    assert not hours.is_open(datetime(2024, 5, 4, 3, 0, tzinfo=UTC))  # Saturday
    assert parse_business_hours("").always_open


def test_a_pressed_button_never_becomes_the_problem_line():
    transcript = [
        TranscriptLine("in", "积分", "neutral", 0.0),
        TranscriptLine("out", "我想确认一下，您问的是下面哪一个？", decision="clarify"),
        TranscriptLine("in", "都不是", "neutral", 0.0),
        TranscriptLine("out", "抱歉", decision="no_answer"),
        TranscriptLine("in", "None of these", "neutral", 0.0),
    ]
    hit = TriggerHit(Reason.FAILED_TURNS, {"failed": [1, 2]})
    labels = {"都不是", "None of these", "转人工"}
    built = build_summary(1, CUSTOMER, transcript, hit, lambda _: None, "zh", button_labels=labels)
    assert built.problem == ["积分"]
    assert "都不是" in built.quoted  # the customer's own messages are still quoted as they were
    unfiltered = build_summary(1, CUSTOMER, transcript, hit, lambda _: None, "zh")
    assert any(line in ("都不是", "None of these") for line in unfiltered.problem)


def test_a_bare_request_for_a_person_is_not_a_problem_line_but_a_request_with_a_problem_is():
    said = ["Where is my parcel?", "I want to talk to a human", "我要找人工客服"]
    said.append("I need a human, my card was charged twice")
    problem = extract_problem(said)
    assert "I want to talk to a human" not in problem and "我要找人工客服" not in problem
    assert "Where is my parcel?" in problem and "I need a human, my card was charged twice" in problem
