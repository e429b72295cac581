"""Social turns: greetings, thanks, goodbyes, acknowledgements and emoji, in zh and en, from the business file."""

from __future__ import annotations

import pytest

from bot.business import load_business_file
from bot.social import SocialMatcher, SocialTurns, social_settings
from storage.conversations import ConversationSnapshot
from tests.bot.conftest import message

MATCHER = SocialMatcher(social_settings(load_business_file().section("social")))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", "greeting"),
        ("hello?", "greeting"),
        ("hi there", "greeting"),
        ("你好呀", "greeting"),
        ("在吗", "greeting"),
        ("thanks, that helps", "thanks"),
        ("谢了", "thanks"),
        ("ok 多谢", "thanks"),
        ("好的", "ack"),
        ("ok", "ack"),
        ("明白了 👍", "ack"),
        ("👍", "ack"),
        ("🙏", "ack"),
        ("bye", "goodbye"),
        ("好的 谢谢 再见", "goodbye"),
        ("no, that's all, thanks", "done"),
        ("nah that's all for now, thanks", "done"),
        ("没有了，谢谢", "done"),
        ("你是机器人还是真人啊", "bot"),
        ("are you a bot?", "bot"),
        ("好 我去app里提一下 🙏", "ack"),
    ],
)
def test_social_messages_are_recognised_by_kind(text, kind):
    turn = MATCHER.match(text)
    assert turn is not None and turn.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "hi, how do I get a refund",
        "你好，怎么申请退款",
        "ok and when is the bill due",
        "好的 那退款多久到账",
        "ok never mind. how much data do i still have this month",
        "好贵",  # "so expensive": 好 is not an acknowledgement here
        "???",
        "invoice",
        "ok that won't work for my accountant, can you help",
    ],
)
def test_questions_and_other_messages_are_not_social(text):
    assert MATCHER.match(text) is None


def test_an_acknowledgement_that_asks_for_a_person_is_left_to_the_handoff_triggers():
    turns = SocialTurns(
        social_settings(load_business_file().section("social")), asks_for_person=lambda text: "agent" in text
    )
    assert turns.intercept(message("u", "ok, agent please"), "ok, agent please", "en", ConversationSnapshot()) is None


async def test_social_turns_get_a_polite_reply_in_the_customers_language_and_never_hand_off(runtime, customer):
    replies = []
    for text in ("你好", "谢谢", "好的", "拜拜"):
        reply = await runtime.engine.handle(message(customer, text))
        replies.append(reply)
    assert [r.decision for r in replies] == ["social"] * 4
    assert all(r.language == "zh" and r.replies[0].kind == "social" and r.handoff_id is None for r in replies)
    assert "谢" not in replies[0].replies[0].text and "不客气" in replies[1].replies[0].text


async def test_thanks_then_bye_after_an_answer_do_not_count_as_failed_turns(runtime, customer):
    await runtime.engine.handle(message(customer, "How can I see where my parcel is right now?"))
    thanks = await runtime.engine.handle(message(customer, "thanks, that helped!"))
    bye = await runtime.engine.handle(message(customer, "bye"))

    assert (thanks.decision, bye.decision) == ("social", "social")
    assert bye.handoff_id is None and "Goodbye" in bye.replies[0].text


async def test_a_greeting_with_a_question_is_answered_as_the_question(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "hi, how can I see where my parcel is right now?"))
    assert reply.decision == "answer"


async def test_the_greeting_names_the_knowledge_bases_own_topics_in_both_languages(runtime):
    english, chinese = runtime.engine.welcome("en"), runtime.engine.welcome("zh")
    tags = {tag for entry in runtime.knowledge.entries() for tag in entry.tags}
    assert "the Warmdesk assistant" in english and sum(tag in english for tag in tags) >= 3
    assert "{" not in english + chinese and "Warmdesk 智能客服" in chinese
