"""The business file: a business changes what the bot says by editing one TOML file; mistakes are named."""

from __future__ import annotations

import pytest

from bot.business import BusinessFileError, load_business_file
from bot.texts import DEFAULT_TEXTS, Texts


def write(tmp_path, text: str):
    path = tmp_path / "business.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_changed_text_replaces_the_default_and_the_rest_stay(tmp_path):
    path = write(tmp_path, '[texts.zh]\nno_answer = "这个问题我们记下了。"\n')
    texts = Texts.from_business(load_business_file(path))

    assert texts.say("no_answer", "zh") == "这个问题我们记下了。"
    assert texts.say("no_answer", "en") == DEFAULT_TEXTS.say("no_answer", "en")
    assert texts.say("clarify", "zh") == DEFAULT_TEXTS.say("clarify", "zh")


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[texts.en]\nno_anwser = "x"\n', "texts.en.no_anwser is not a text the bot uses"),
        ('[texts.fr]\nno_answer = "x"\n', "[texts.fr] is not a language the bot speaks"),
        ('[txets.en]\nno_answer = "x"\n', "unknown section [txets]"),
        ('[texts.en]\nhandoff_wait = "wait {minuets} minutes"\n', "uses {minuets}; allowed: {ahead}, {minutes}"),
        ('[texts.en]\nno_answer = "  "\n', "must be a non-empty string"),
        ('[texts.en]\nno_answer = "oops {"\n', "literal braces"),
        ("[texts.en\n", "is not valid TOML"),
    ],
)
def test_a_mistake_in_the_file_is_named(tmp_path, content, named):
    with pytest.raises(BusinessFileError, match=named.replace("{", r"\{").replace("[", r"\[")):
        load_business_file(write(tmp_path, content))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(BusinessFileError, match="does not exist"):
        load_business_file(tmp_path / "nope.toml")


def test_every_text_exists_in_both_languages_with_the_same_placeholders():
    from bot.business import placeholders

    texts = load_business_file().texts()
    assert set(texts["en"]) == set(texts["zh"])
    for key in texts["en"]:
        assert placeholders(texts["en"][key]) == placeholders(texts["zh"][key]), key


def test_the_running_bot_speaks_the_business_file(tmp_path, monkeypatch):
    from bot.runtime import Runtime
    from bot.settings import Settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = write(
        tmp_path, '[texts.en]\ngreeting = "Welcome to Pebble!"\n[texts.zh]\nprivacy_notice = "隐私：只用于回复您。"\n'
    )
    runtime = Runtime.open(Settings(data_dir=tmp_path / "data", business_file=path, seed_demo_kb=False))
    try:
        assert runtime.engine.welcome("en") == "Welcome to Pebble!"
        assert runtime.engine.texts.say("privacy_notice", "zh") == "隐私：只用于回复您。"
        assert runtime.handoff.texts is runtime.engine.texts
    finally:
        runtime.close()
