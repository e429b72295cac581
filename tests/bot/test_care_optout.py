"""'stop' / '不要再发了' through the real engine: answered, stored on the customer, and undone by 'resume messages'."""

from __future__ import annotations

from bot.texts import DEFAULT_TEXTS
from tests.bot.conftest import message

say = DEFAULT_TEXTS.say


async def test_stop_opts_the_customer_out_and_resume_opts_them_back_in(runtime, customer):
    await runtime.engine.handle(message(customer, "where is my order"))
    stop = await runtime.engine.handle(message(customer, "不要再发了！"))
    assert stop.decision == "opt_out" and stop.replies[0].text == say("followup_opted_out", "zh")
    assert runtime.care.repository.opted_out(stop.customer_id)

    resume = await runtime.engine.handle(message(customer, "Resume messages"))
    # two Latin words after Chinese keep the conversation's language (bot/language.py)
    assert resume.replies[0].text == say("followup_opted_in", "zh")
    assert not runtime.care.repository.opted_out(resume.customer_id)


async def test_stop_as_the_very_first_message_is_honoured(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "STOP"))
    assert reply.decision == "opt_out" and runtime.care.repository.opted_out(reply.customer_id)


async def test_a_sentence_that_only_contains_stop_is_answered_normally(runtime, customer):
    reply = await runtime.engine.handle(message(customer, "the parcel did not stop at my address"))
    assert reply.decision != "opt_out" and not runtime.care.repository.opted_out(reply.customer_id)
