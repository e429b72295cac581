"""The agent's briefing, built offline from the conversation: who, why, the problem, what the bot said, a first step.

The problem lines are extracted (the customer's own sentences that carry the request), never paraphrased,
and the customer's original messages are always quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.handoff.agent_texts import agent_say
from bot.handoff.sparkline import emotion_sparkline
from bot.handoff.triggers import DEFAULT_KEYWORDS, TriggerHit, keyword_pattern

MAX_PROBLEM_LINES = 3
# LLM mode (bot/llm/summary.py) writes its fields above the template summary, separated by this line
LLM_SUMMARY_MARK = "\n\n---\n"
MAX_QUOTED = 5
_SENTENCE_END = re.compile(r"(?<=[.!?。！？\n])\s*")
_REQUEST_CUES = re.compile(
    r"(\?|？|\b(how|why|where|when|what|can|could|would|need|want|please|help|refund|order|cancel|change|"
    r"return|deliver|payment|charged|account|password|invoice|not|never|still|wrong|broken)\b|"
    r"怎么|为什么|哪里|什么时候|能不能|可以|吗|想|要|需要|请|帮|退|订单|取消|修改|发货|物流|付款|扣|账户|密码|发票|没|不|还)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d{4,}")
_ASKING_FOR_A_PERSON = keyword_pattern(DEFAULT_KEYWORDS)
# The words around a bare request for a person ("I want to talk to a human", "我要找人工"): no problem in them.
_REQUEST_FILLER = re.compile(
    r"\b(i|i'd|want|would|like|need|to|talk|speak|chat|with|a|an|the|some|please|can|could|get|me|let|real|now)\b|"
    r"我|要|想|请|帮|找|给|转|接|一下|一个|吧|呢|啊",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    customer_id: int
    name: str | None
    channel: str
    tier: str
    previous_handoffs: int


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    direction: str  # "in" from the customer, "out" from the bot or an agent
    text: str
    emotion: str | None = None
    intensity: float | None = None
    faq_id: str | None = None
    decision: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffSummary:
    handoff_id: int
    customer: CustomerFacts
    reason: str
    evidence: dict[str, Any]
    sparkline: str
    problem: list[str]
    answered: list[str]
    first_step: str
    quoted: list[str]
    language: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return agent_say("title", self.language, id=self.handoff_id, name=self.display_name)

    @property
    def display_name(self) -> str:
        return self.customer.name or agent_say("anonymous", self.language) + f" #{self.customer.customer_id}"

    @property
    def who(self) -> str:
        return agent_say(
            "who_line",
            self.language,
            name=self.display_name,
            channel=self.customer.channel,
            tier=self.customer.tier,
            previous=self.customer.previous_handoffs,
            sparkline=self.sparkline or "–",
        )

    @property
    def why(self) -> str:
        return describe_reason(self.reason, self.evidence, self.language)

    def render(self) -> str:
        """Plain text: stored on the Handoff and shown by desks that have no richer format."""
        say = agent_say
        lines = [
            self.title,
            *self.extra.get("preface", ()),  # relationship care (bot/care/notes.py): the latest care note first
            f"{say('who', self.language)}: {self.who}",
            f"{say('why', self.language)}: {self.why}",
            f"{say('problem', self.language)}:",
            *(f"  > {line}" for line in self.problem),
            f"{say('answered', self.language)}: "
            + ("; ".join(self.answered) if self.answered else say("nothing_answered", self.language)),
            f"{say('first_step', self.language)}: {self.first_step}",
            f"{say('customer_said', self.language)}:",
            *(f"  > {line}" for line in self.quoted),
        ]
        return "\n".join(lines)


def build_summary(
    handoff_id: int,
    customer: CustomerFacts,
    transcript: Sequence[TranscriptLine],
    hit: TriggerHit,
    faq_title: Callable[[str], str | None],
    language: str = "en",
    button_labels: Collection[str] = (),
    preface: Sequence[str] = (),  # relationship care: lines shown right under the title (the care note)
) -> HandoffSummary:
    """`button_labels` are the texts of buttons the bot offers ("None of these", "都不是"): a press of one is
    the customer's answer to the bot, not their problem, so it never becomes a problem line."""
    said = [line for line in transcript if line.direction == "in" and line.text.strip()]
    pressed = {label.strip().casefold() for label in button_labels}
    typed = [line.text for line in said if line.text.strip().casefold() not in pressed]
    answered = _answered_titles(transcript, faq_title)
    return HandoffSummary(
        handoff_id=handoff_id,
        customer=customer,
        reason=hit.reason,
        evidence=hit.evidence,
        sparkline=emotion_sparkline([(line.emotion, line.intensity) for line in said]),
        problem=extract_problem(typed),
        answered=answered,
        first_step=suggest_first_step(hit, answered, language),
        quoted=[line.text for line in said[-MAX_QUOTED:]],
        language=language,
        extra={"preface": list(preface)} if preface else {},
    )


def extract_problem(messages: Sequence[str], limit: int = MAX_PROBLEM_LINES) -> list[str]:
    """The customer's sentences that carry the request, in the order they were said (1 to `limit`)."""
    sentences = [
        (index, sentence.strip())
        for index, sentence in enumerate(s for message in messages for s in _SENTENCE_END.split(message))
        if sentence.strip()
    ]
    scored = [(index, sentence, _request_score(sentence)) for index, sentence in sentences]
    carrying = [item for item in scored if item[2] > 0]
    if not carrying:
        return [sentence for _, sentence in sentences[-1:]]
    best = sorted(carrying, key=lambda item: (item[2], item[0]), reverse=True)[:limit]
    return [sentence for _, sentence, _ in sorted(best)]


def _request_score(sentence: str) -> float:
    rest = sentence
    if _ASKING_FOR_A_PERSON and _ASKING_FOR_A_PERSON.search(sentence):
        rest = _REQUEST_FILLER.sub("", _ASKING_FOR_A_PERSON.sub("", sentence))
    if len(rest.strip(" .!?。！？,，")) < 4:
        return 0.0  # "hi", "human please", "I want to talk to a human", "转人工": no problem in them
    score = len(_REQUEST_CUES.findall(sentence)) + (2 if _DIGITS.search(sentence) else 0)
    return score + min(len(sentence), 200) / 200


def _answered_titles(transcript: Sequence[TranscriptLine], faq_title: Callable[[str], str | None]) -> list[str]:
    titles: list[str] = []
    for line in transcript:
        if line.direction == "out" and line.decision == "answer" and line.faq_id:
            title = faq_title(line.faq_id) or line.faq_id
            if title not in titles:
                titles.append(title)
    return titles


def suggest_first_step(hit: TriggerHit, answered: Sequence[str], language: str) -> str:
    faq = answered[-1] if answered else "–"
    return agent_say(f"step.{hit.reason}", language, faq=faq)


def describe_reason(reason: str, evidence: dict[str, Any], language: str) -> str:
    values = {
        "matched": evidence.get("matched", ""),
        "topic": evidence.get("topic", ""),
        "score": evidence.get("score", ""),
        "threshold": evidence.get("threshold", ""),
        "count": len(evidence.get("negative") or evidence.get("failed") or []),
        "window": evidence.get("window", ""),
    }
    text = agent_say(f"reason.{reason}", language, **values)
    if evidence.get("vip"):
        text += agent_say("reason.vip", language)
    quote = evidence.get("message")
    return f'{text} — "{quote}"' if quote else text
