"""Sensitive topics a person should handle: built-in bilingual patterns (settings pick which are active), plus the
business file's [sensitive.<topic>] phrases per language, which the business edits (privacy breaches, ...)."""

from __future__ import annotations

import re

SENSITIVE_TOPICS: dict[str, tuple[str, ...]] = {
    "refund_dispute": (
        r"charge ?back",
        r"dispute",
        r"charged (me )?twice",
        r"double charged",
        r"refund (was )?(refused|denied|rejected)",
        r"(still|never) (got|received|had) (my|the|a) refund",
        r"拒绝退款",
        r"不给退",
        r"不退款",
        r"退款.{0,6}(还没|没到|没收到|拖)",
        r"扣了两次",
        r"重复扣款",
        r"拒付",
    ),
    "legal_threat": (
        r"\blawyers?\b",
        r"\bsue\b",
        r"\bsuing\b",
        r"legal action",
        r"\bcourt\b",
        r"consumer (protection|rights)",
        r"trading standards",
        r"report you to",
        r"律师",
        r"起诉",
        r"告你们",
        r"法院",
        r"投诉到",
        r"消协",
        r"12315",
        r"工商",
    ),
    "account_security": (
        r"hack(ed|er)?",
        r"someone (else )?(logged|got) into",
        r"unauthori[sz]ed",
        r"stolen",
        r"fraud",
        r"scam",
        r"phishing",
        r"被盗",
        r"盗号",
        r"被人登录",
        r"异地登录",
        r"诈骗",
        r"盗刷",
        r"不是我(本人)?(操作|买|下单)",
    ),
    "account_closure": (
        r"(close|delete|cancel|deactivate) (my|the) account",
        r"closing my account",
        r"delete (all )?my data",
        r"注销(账号|账户|帐号)?",
        r"销户",
        r"删除我的(数据|信息|账号)",
    ),
    "personal_safety": (
        r"\bthreat(s|en|ens|ened|ening)?\b",
        r"harass(ed|es|ing|ment)?",
        r"\bstalk(s|ed|ing|er)?\b",
        r"\b(i'?m|i am|feel) (so |really |very )?(scared|afraid|frightened|in danger)",
        r"威胁",
        r"恐吓",
        r"跟踪我",
        r"(很|真的|好|特别)害怕",
    ),
    "bereavement": (
        r"passed away",
        r"\bdeceased\b",
        r"\b(died|death)\b.{0,30}\b(account|number|line|contract|plan)",
        r"\b(my|our|her|his) (late|deceased) ",
        r"去世",
        r"过世",
        r"离世",
        r"病逝",
        r"遗产",
    ),
}


GAP = "..."  # in a business-file phrase: the words before it, then within a few words the words after it
_GAP_PATTERN = r".{0,40}?"


def compile_topics(
    names: tuple[str, ...], phrases: dict[str, tuple[str, ...]] | None = None
) -> dict[str, re.Pattern[str]]:
    """One case-insensitive pattern per active topic; unknown names are refused so typos do not pass silently.
    `phrases` (topic -> phrases of every language) are the business file's topics, active whenever listed; a
    built-in topic's phrases are added to its patterns."""
    phrases = {topic: items for topic, items in (phrases or {}).items() if any(p.strip() for p in items)}
    unknown = [name for name in names if name not in SENSITIVE_TOPICS]
    if unknown:
        raise ValueError(f"unknown sensitive topics {unknown}; known: {sorted(SENSITIVE_TOPICS)}")
    compiled = {}
    for name in dict.fromkeys([*names, *phrases]):
        patterns = [*SENSITIVE_TOPICS.get(name, ()), *(phrase_pattern(p) for p in phrases.get(name, ()) if p.strip())]
        compiled[name] = re.compile("|".join(patterns), re.IGNORECASE)
    return compiled


def phrase_pattern(phrase: str) -> str:
    """A plain phrase as a pattern: Latin words match whole ("sue", not "issue"), Chinese anywhere, and "A ... B"
    matches A followed by B a few words later ("leaked ... my data")."""
    parts = [part.strip() for part in phrase.split(GAP)]
    return _GAP_PATTERN.join(_words(part) for part in parts if part)


def _words(text: str) -> str:
    escaped = re.escape(" ".join(text.split())).replace(r"\ ", r"\s+")
    start = r"\b" if text[:1].isascii() and text[:1].isalnum() else ""
    end = r"\b" if text[-1:].isascii() and text[-1:].isalnum() else ""
    return f"{start}{escaped}{end}"
