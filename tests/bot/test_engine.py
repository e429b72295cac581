from __future__ import annotations

from sqlmodel import select

from bot.policy import NONE_OF_THESE
from knowledge.entry import FaqEntry
from storage.models import Conversation, ConversationState, Message
from tests.bot.conftest import message


def logged(runtime, user: str) -> list[Message]:
    with runtime.db.session() as session:
        return list(
            session.exec(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.platform == "test", Conversation.chat_id == user)
                .order_by(Message.id)
            ).all()
        )


async def test_english_question_is_answered_in_english_from_the_knowledge_base(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "How can I see where my parcel is right now?"))

    assert reply.decision == "answer"
    entry = runtime.knowledge.entry(reply.faq_id)
    assert reply.replies[0].text == entry.answer_en
    assert reply.language == "en"


async def test_chinese_question_is_answered_in_chinese(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "我想申请退货，应该怎么操作？"))

    assert reply.decision == "answer" and reply.language == "zh"
    assert reply.replies[0].text == runtime.knowledge.entry(reply.faq_id).answer_zh


async def test_unrelated_question_gets_an_honest_no_answer_and_is_logged_as_unanswered(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "What is the capital of Mongolia?"))

    assert reply.decision == "no_answer"
    assert "passed your question on" in reply.replies[0].text
    assert [m.decision for m in logged(runtime, customer)] == ["no_answer", "no_answer"]


async def test_both_messages_are_logged_with_the_emotion_tag(runtime, customer):
    await runtime.engine.handle(message(customer, "This is the third time I ask!!! Where is my refund???", "m1"))

    inbound, outbound = logged(runtime, customer)
    assert (inbound.direction, outbound.direction) == ("in", "out")
    assert inbound.emotion_label in {"anger", "anxiety", "sadness"} and inbound.emotion_intensity > 0
    assert inbound.platform_message_id == "m1"


async def test_a_duplicate_delivery_gets_no_second_answer_and_is_logged_once(runtime, customer):
    first = await runtime.engine.handle(message(customer, "how do I reset my password", "dup-1"))
    again = await runtime.engine.handle(message(customer, "how do I reset my password", "dup-1"))

    assert first.replies and not first.duplicate
    assert again.duplicate and again.replies == []
    assert len(logged(runtime, customer)) == 2


async def test_clarify_offers_choices_and_pressing_one_answers_that_entry(runtime, customer):
    reply = None
    for probe, text in enumerate(("points", "invoice", "积分", "发票", "account", "refund")):
        customer = f"{customer}-probe-{probe}"
        reply = await runtime.engine.handle(message(customer, text))
        if reply.decision == "clarify":
            break
    assert reply.decision == "clarify", "a one-word question should be ambiguous in the demo knowledge base"
    choices = reply.replies[0].choices
    assert 3 <= len(choices) <= 4 and choices[-1].id == NONE_OF_THESE

    picked = await runtime.engine.handle(message(customer, choices[0].label, choice_id=choices[0].id))

    assert picked.decision == "answer"
    assert picked.faq_id == choices[0].id.removeprefix("faq:")


async def test_none_of_these_leads_to_the_no_answer_path(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "None of these", choice_id=NONE_OF_THESE))
    assert reply.decision == "no_answer"


async def test_bad_input_gets_a_sensible_reply_and_is_logged(runtime, customer):
    cases = {
        "   \n\t ": "empty",
        "\x00\x07\x1b": "empty",
        "😀😀😀": None,
        "退款 refund 多久 how long": None,
        "where is my order " * 600: None,
    }
    for case, (text, expected) in enumerate(cases.items()):
        one_customer = f"{customer}-{case}"
        reply = await runtime.engine.handle(message(one_customer, text))
        assert reply.replies and reply.replies[0].text
        if expected:
            assert reply.decision == expected
        assert logged(runtime, one_customer)[0].text == text.replace("\x00", "")  # PostgreSQL cannot hold NUL


async def test_a_photo_gets_a_text_only_notice(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "", content_type="photo"))
    assert reply.decision == "non_text" and "text" in reply.replies[0].text


async def test_the_bot_stays_silent_while_a_person_owns_the_conversation(runtime, customer):
    first = await runtime.engine.handle(message(customer, "where is my order"))
    with runtime.db.session() as session:
        conversation = session.get(Conversation, first.conversation_id)
        conversation.state = ConversationState.AGENT
        session.add(conversation)

    for text in ("how do refunds work", "我要退货", "hello?"):
        reply = await runtime.engine.handle(message(customer, text))
        assert reply.replies == [] and reply.decision == "held_for_agent"
    assert [m.direction for m in logged(runtime, customer)] == ["in", "out", "in", "in", "in"]


async def test_a_faq_edit_made_elsewhere_is_answered_without_a_restart(runtime, customer):
    runtime.faqs.save(
        FaqEntry(
            id="pet_policy",
            questions=["Can I bring my dog into the store?", "商店可以带狗进去吗"],
            answer_en="Dogs are welcome in all our stores.",
            answer_zh="所有门店都欢迎狗狗。",
        ),
        author="test",
    )
    reply = await runtime.engine.handle(message(customer, "can i bring my dog to the shop?"))
    assert reply.faq_id == "pet_policy" and reply.replies[0].text == "Dogs are welcome in all our stores."
    runtime.faqs.remove("pet_policy", author="test")
    reply = await runtime.engine.handle(message(customer, "can i bring my dog to the shop?"))
    assert reply.faq_id != "pet_policy"


async def test_after_a_person_helped_asking_the_earlier_question_again_is_not_a_repeat(runtime, customer):
    await runtime.engine.handle(message(customer, "where is my order"))
    handed = await runtime.engine.handle(message(customer, "I want to talk to a real person"))
    assert handed.decision == "handoff"
    await runtime.handoff.claim(handed.handoff_id, "console:ann", "console")
    await runtime.handoff.resolve(handed.handoff_id, "console:ann", "console")

    again = await runtime.engine.handle(message(customer, "where is my order"))
    assert not any("repeated question" in signal for signal in again.emotion.signals)
