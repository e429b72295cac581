from __future__ import annotations

from bot.emotion import default_tagger
from bot.emotion.base import ConversationContext, EmotionTag, PastTurn
from bot.emotion.context import apply_context, conversation_state, repeat_count

QUESTION = "我的快递到哪了"


def test_same_question_after_an_answer_raises_intensity_and_says_so():
    tagger = default_tagger()
    alone = tagger.tag(QUESTION)
    context = ConversationContext(recent=(PastTurn(QUESTION, "neutral", 0.15, "answered"),))
    again = tagger.tag(QUESTION, context=context)
    assert again.intensity > alone.intensity
    assert "repeated question" in again.signals


def test_third_time_asking_becomes_anger():
    turns = (
        PastTurn("how do I get my refund?", "neutral", 0.1, "answered"),
        PastTurn("How do I get my refund??", "neutral", 0.2, "answered"),
    )
    tag = apply_context(EmotionTag("neutral", 0.15), "how do I get my refund", ConversationContext(recent=turns))
    assert tag.label == "anger"
    assert tag.signals[0] == "repeated question x3"


def test_saying_it_is_the_third_time_counts_as_repeated():
    context = ConversationContext(recent=(PastTurn("where is my parcel", "neutral", 0.1),))
    tag = apply_context(EmotionTag("anger", 0.6), "third time I'm asking, hello?", context)
    assert "repeated question" in tag.signals
    assert tag.intensity > 0.6


def test_different_questions_are_not_repeats():
    assert repeat_count("怎么开发票", [PastTurn("我的快递到哪了", "neutral", 0.1)]) == 0


def test_long_wait_raises_a_negative_message_only():
    context = ConversationContext(seconds_since_last_reply=2 * 3600)
    angry = apply_context(EmotionTag("anger", 0.6), "hello??", context)
    calm = apply_context(EmotionTag("neutral", 0.1), "hello", context)
    assert angry.intensity > 0.6 and any(s.startswith("long wait") for s in angry.signals)
    assert calm.label == "neutral" and calm.intensity <= 0.3


def test_no_context_leaves_the_tag_alone():
    tag = EmotionTag("joy", 0.7, ("lexicon:thanks",))
    assert apply_context(tag, "thanks", None) == tag


def test_conversation_state_three_negatives_in_a_row_is_at_risk():
    turns = [EmotionTag("neutral", 0.1), EmotionTag("anger", 0.5), EmotionTag("anger", 0.6), EmotionTag("sadness", 0.7)]
    state = conversation_state(turns)
    assert state.at_risk
    assert state.label == "anger" or state.label == "sadness"
    assert state.trend == "worsening"
    assert state.negative_streak == 3


def test_conversation_state_calming_down():
    turns = [EmotionTag("anger", 0.8), EmotionTag("anger", 0.6), EmotionTag("neutral", 0.1), EmotionTag("joy", 0.7)]
    state = conversation_state(turns)
    assert not state.at_risk
    assert state.trend == "improving"


def test_conversation_state_of_nothing_is_neutral():
    assert conversation_state([]).label == "neutral"
