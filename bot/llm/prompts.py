"""Every prompt is a file in `prompts/`, rendered with langchain's prompt templates."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"
LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese (简体中文)"}
TENSE_EMOTIONS = frozenset({"anger", "anxiety"})


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"])


@cache
def _text(name: str) -> str:
    return (PROMPTS_DIR / name).read_text(encoding="utf-8")


@cache
def _chat(system: str, human: str = "answer.human.txt") -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", _text(system)), ("human", _text(human))])


@cache
def _template(name: str) -> PromptTemplate:
    return PromptTemplate.from_template(_text(name))


def tone(language: str, emotion_label: str, intensity: float) -> str:
    """Anger and anxiety get their own, per-language tone rule; every other emotion the neutral one."""
    name = f"tone.{'zh' if language == 'zh' else 'en'}.txt" if emotion_label in TENSE_EMOTIONS else "tone.neutral.txt"
    return _template(name).format(emotion_label=emotion_label, emotion_intensity=f"{intensity:.2f}")


def answer_messages(
    *, business: str, language: str, emotion_label: str, intensity: float, payload: str
) -> list[BaseMessage]:
    return _chat("answer.system.txt").format_messages(
        business=business,
        language_name=language_name(language),
        tone=tone(language, emotion_label, intensity),
        payload=payload,
    )


def summary_messages(*, agent_language: str, payload: str) -> list[BaseMessage]:
    return _chat("summary.system.txt").format_messages(
        agent_language_name=language_name(agent_language), payload=payload
    )


def suggest_messages(*, language: str, payload: str) -> list[BaseMessage]:
    return _chat("suggest.system.txt").format_messages(language_name=language_name(language), payload=payload)


def translate_messages(*, target_language: str, text: str) -> list[BaseMessage]:
    return _chat("translate.system.txt").format_messages(
        target_language_name=language_name(target_language), payload=text
    )
