from __future__ import annotations

import pytest

from bot.handoff.triggers import EarlierTurn, Reason, TriggerInput, Triggers, TriggerSettings

triggers = Triggers()


@pytest.mark.parametrize(
    "text", ["转人工", "我要人工客服", "真人在吗", "Can I talk to a human?", "AGENT please", "I want a real person"]
)
def test_explicit_requests_in_both_languages_hand_off_with_the_matched_words(text):
    hit = triggers.check(TriggerInput(text))
    assert hit.reason == Reason.EXPLICIT_REQUEST
    assert hit.evidence["message"] == text and hit.evidence["matched"]


def test_a_keyword_inside_another_word_does_not_count():
    assert triggers.check(TriggerInput("my agentic workflow question about invoices", decision="answer")) is None


def test_pressing_talk_to_a_person_hands_off():
    assert triggers.check(TriggerInput("Talk to a person", chose_person=True)).reason == Reason.CUSTOMER_CHOICE


def test_anger_at_or_above_the_threshold_hands_off_with_the_score():
    hit = triggers.check(TriggerInput("where is it", emotion="anger", intensity=0.8, decision="no_answer"))
    assert hit.reason == Reason.ANGER and hit.evidence["score"] == 0.8
    assert triggers.check(TriggerInput("where is it", emotion="anger", intensity=0.3, decision="no_answer")) is None


def test_an_angry_question_the_bot_can_answer_is_answered_unless_the_anger_is_very_strong():
    assert triggers.check(TriggerInput("where is it", emotion="anger", intensity=0.8, decision="answer")) is None
    hit = triggers.check(TriggerInput("where is it", emotion="anger", intensity=0.95, decision="answer"))
    assert hit.reason == Reason.ANGER


def test_vip_customers_reach_a_person_at_lower_anger():
    given = TriggerInput("where is it", emotion="anger", intensity=0.65, decision="no_answer", tier="VIP")
    hit = triggers.check(given)
    assert hit.reason == Reason.ANGER and hit.evidence["vip"] is True
    assert triggers.check(TriggerInput("where is it", emotion="anger", intensity=0.65, decision="no_answer")) is None


def test_two_of_the_last_three_messages_negative_is_a_trend():
    earlier = (
        EarlierTurn("hmm ok", "neutral", 0.0, "answer"),
        EarlierTurn("this worries me", "anxiety", 0.5, "answer"),
    )
    hit = triggers.check(TriggerInput("I am so sad about it", "sadness", 0.45, "answer", earlier))
    assert hit.reason == Reason.NEGATIVE_TREND
    assert [n["message"] for n in hit.evidence["negative"]] == ["this worries me", "I am so sad about it"]


def test_a_single_negative_message_is_not_a_trend():
    earlier = (EarlierTurn("hello", "neutral", 0.0, "answer"),)
    assert triggers.check(TriggerInput("I am a bit sad", "sadness", 0.45, "answer", earlier)) is None


def test_two_failed_turns_in_a_row_hand_off():
    earlier = (EarlierTurn("blue widgets?", bot_decision="no_answer"),)
    hit = triggers.check(TriggerInput("the green ones then", decision="clarify", earlier=earlier))
    assert hit.reason == Reason.FAILED_TURNS and hit.evidence["failed"] == ["blue widgets?", "the green ones then"]
    assert triggers.check(TriggerInput("the green ones then", decision="clarify")) is None


@pytest.mark.parametrize("text", ["that didn't help", "还是不行", "Still not working for me"])
def test_saying_the_answer_did_not_help_hands_off(text):
    earlier = (EarlierTurn("how do I reset my password", bot_decision="answer"),)
    hit = triggers.check(TriggerInput(text, decision="no_answer", earlier=earlier))
    assert hit.reason == Reason.REPEATED_QUESTION and hit.evidence["previous"] == "how do I reset my password"


def test_asking_the_same_question_right_after_an_answer_hands_off_when_the_bot_has_nothing_better():
    earlier = (EarlierTurn("How do I reset my password?", bot_decision="answer"),)
    hit = triggers.check(TriggerInput("how do i reset my password??", decision="clarify", earlier=earlier))
    assert hit.reason == Reason.REPEATED_QUESTION and hit.evidence["score"] >= 0.6


@pytest.mark.parametrize("text", ["how do i reset my password??", "still not working, how do I reset my password"])
def test_a_polite_second_ask_the_bot_can_answer_gets_the_answer(text):
    earlier = (EarlierTurn("How do I reset my password?", bot_decision="answer"),)
    assert triggers.check(TriggerInput(text, decision="answer", earlier=earlier)) is None


@pytest.mark.parametrize(
    "text",
    [
        "my father passed away and I need to close his line",
        "我父亲上个月去世了，想注销他的号码",
        "someone keeps sending me threats from new numbers, I'm scared",
        "有人一直发短信威胁我",
    ],
)
def test_bereavement_and_personal_safety_go_to_a_person(text):
    hit = triggers.check(TriggerInput(text, decision="answer"))
    assert hit is not None and hit.reason == Reason.SENSITIVE_TOPIC


@pytest.mark.parametrize("text", ["my router died", "骚扰电话能拦截吗", "I ordered 3 days ago, where is my order?"])
def test_everyday_problems_are_not_sensitive(text):
    assert triggers.check(TriggerInput(text, decision="answer")) is None


@pytest.mark.parametrize("text", ["can I speak with someone please", "转人共", "can i talk to an actual person"])
def test_more_ways_of_asking_for_a_person_are_recognised(text):
    assert triggers.check(TriggerInput(text, decision="answer")).reason == Reason.EXPLICIT_REQUEST


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("I will talk to my lawyer about this", "legal_threat"),
        ("我的账号被盗了", "account_security"),
        ("please delete my account", "account_closure"),
        ("I was charged twice for one order", "refund_dispute"),
    ],
)
def test_sensitive_topics_hand_off_with_their_name(text, topic):
    hit = triggers.check(TriggerInput(text, decision="answer"))
    assert hit.reason == Reason.SENSITIVE_TOPIC and hit.evidence["topic"] == topic


def test_topics_and_keywords_are_configurable():
    custom = Triggers(TriggerSettings(keywords=("operator",), sensitive_topics=("legal_threat",)))
    assert custom.check(TriggerInput("human please", decision="answer")) is None
    assert custom.check(TriggerInput("please delete my account", decision="answer")) is None
    assert custom.check(TriggerInput("operator!", decision="answer")).reason == Reason.EXPLICIT_REQUEST


def test_an_unknown_topic_name_is_refused():
    with pytest.raises(ValueError, match="unknown sensitive topics"):
        Triggers(TriggerSettings(sensitive_topics=("refund_disput",)))


def test_an_ordinary_answered_question_does_not_hand_off():
    assert triggers.check(TriggerInput("How long does shipping take?", decision="answer")) is None
    assert triggers.check(TriggerInput("发票怎么开？", decision="answer")) is None


def test_emoji_only_messages_do_not_count_as_failed_turns():
    earlier = (EarlierTurn("😀😀😀", bot_decision="no_answer"),)
    assert triggers.check(TriggerInput("blue widgets?", decision="no_answer", earlier=earlier)) is None


def test_history_before_the_last_handoff_does_not_count_again():
    from bot.handoff.service import since_last_handoff

    turns = (EarlierTurn("a", bot_decision="no_answer"), EarlierTurn("5", bot_decision="rating"), EarlierTurn("b"))
    assert since_last_handoff(turns) == (EarlierTurn("b"),)


def test_the_business_files_sensitive_phrases_hand_off_a_data_leak_accusation():
    from bot.business import load_business_file
    from bot.handoff.wiring import sensitive_phrases

    triggers = Triggers(TriggerSettings(topic_phrases=sensitive_phrases(load_business_file().section("sensitive"))))
    leak = "办卡第二天就有陌生人报出我的身份证号，是不是你们把我的信息泄露了？"
    for text in (leak, "did you sell my data to spammers"):
        hit = triggers.check(TriggerInput(text, decision="answer"))  # even when the KB has something close
        assert hit.reason == "sensitive_topic" and hit.evidence["topic"] == "privacy_breach"
    assert triggers.check(TriggerInput("how do I update my personal information", decision="answer")) is None


def test_a_business_topic_phrase_with_a_gap_matches_words_in_between():
    triggers = Triggers(TriggerSettings(sensitive_topics=(), topic_phrases={"leak": ("leaked ... my data",)}))
    assert triggers.check(TriggerInput("you leaked all of my data")).evidence["topic"] == "leak"
    assert triggers.check(TriggerInput("my data plan leaked")) is None
