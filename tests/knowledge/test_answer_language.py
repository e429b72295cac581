from __future__ import annotations

from knowledge.answer_language import LanguageProblem, answer_language_warnings
from knowledge.entry import FaqEntry


def test_an_english_answer_with_chinese_names_is_reported_with_the_words():
    english = "Compare plans in the 云帆通信 app."
    entry = FaqEntry("plans", ["plans?"], answer_en=english, answer_zh="在云帆通信App比较套餐。")
    (warning,) = answer_language_warnings(entry)
    assert warning.problem == LanguageProblem.CHINESE_IN_ENGLISH and "云帆通信" in str(warning)


def test_a_chinese_answer_without_chinese_is_reported():
    entry = FaqEntry("plans", ["套餐"], answer_zh="See the Plans page.", answer_en="See the Plans page.")
    assert [w.problem for w in answer_language_warnings(entry)] == [LanguageProblem.NO_CHINESE_IN_CHINESE]


def test_answers_in_their_own_language_are_fine():
    entry = FaqEntry("plans", ["plans?"], answer_en="See the Plans page.", answer_zh="请看 App 的套餐页（Plans）。")
    assert answer_language_warnings(entry) == []
