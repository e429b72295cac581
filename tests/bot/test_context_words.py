"""How a message relates to the conversation: lead-ins searched without, new topics, pointing back, "instead"."""

from __future__ import annotations

import pytest

from bot.business import load_business_file
from bot.context_words import ContextWords
from bot.followup import FollowupSettings
from bot.social import lead_in_phrases, social_settings


@pytest.fixture(scope="module")
def words() -> ContextWords:
    business = load_business_file()
    context = FollowupSettings.model_validate(business.section("context"))
    return ContextWords(
        lead_in=context.lead_in,
        new_topic=context.new_topic,
        resolved=context.resolved,
        refers_back=context.refers_back,
        instead=context.instead,
        social=lead_in_phrases(social_settings(business.section("social"))),
    )


@pytest.mark.parametrize(
    ("text", "searched"),
    [
        ("ok never mind. how much credit do I have left", "how much credit do I have left"),
        ("登上了 我想看看还剩多少流量", "我想看看还剩多少流量"),
        (
            "ok, separately: my bill has a charge I never signed up for",
            "separately: my bill has a charge I never signed up for",
        ),
        ("顺便问下 骚扰电话能不能拦住", "顺便问下 骚扰电话能不能拦住"),  # a topic switch keeps its words
        ("好的，请问发票怎么开", "发票怎么开"),
        ("quick question: can I pay by card?", "can I pay by card?"),
    ],
)
def test_words_that_only_lead_in_are_not_searched(words, text, searched):
    assert words.read(text).text == searched


@pytest.mark.parametrize("text", ["好贵啊", "可以退吗", "ok", "also", "thanks", "行不行"])
def test_a_message_that_is_only_its_first_words_is_searched_whole(words, text):
    assert words.read(text).text == text


@pytest.mark.parametrize(
    ("text", "new_topic"),
    [
        ("also how do I top up", True),
        ("登上了 我想看看这个月还剩多少流量", True),  # the previous problem is solved: what follows is new
        ("that worked! now how do I change my plan", True),
        ("ok and how much is it", False),
        ("重启过了 还是不行", False),
    ],
)
def test_new_topics_and_solved_problems_leave_the_previous_question(words, text, new_topic):
    assert words.read(text).new_topic is new_topic


def test_pointing_back_and_asking_for_an_alternative_are_recognised(words):
    assert words.read("when does it stop, right away?").refers_back
    assert not words.read("how much data do I have left this month").refers_back
    assert words.read("what if I move to a cheaper plan instead").instead
    assert words.read("那要是不退 改个便宜的呢").instead
    assert not words.read("how do I move to a cheaper plan").instead
