"""The weekly digest for managers: this week against the last, the top frustration topics with example
messages, customers at risk, and the biggest clusters of unanswered questions.

Unanswered questions are grouped by their most telling keyword (`bot.emotion.profile.keywords`: English words
of 4+ letters, jieba words for Chinese): each question joins the cluster of its keyword that most other
unanswered questions of the week share. Simple, and it needs no model.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.emotion.base import NEGATIVE_LABELS
from bot.emotion.profile import keywords
from bot.insights import Insights
from storage.customer360 import CustomerSearch, search_customers
from storage.reports import UNMATCHED, ReportFilter, ReportRange, topic_of, topics, unanswered_questions
from storage.reports_journeys import tagged_conversations

TOP = 5
EXAMPLES = 2
EXAMPLE_CHARS = 140


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    this_week: float | int | None
    last_week: float | int | None


@dataclass(frozen=True, slots=True)
class Cluster:
    label: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AtRiskCustomer:
    id: int
    name: str | None
    tier: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WeeklyDigest:
    start: datetime
    end: datetime
    changes: list[Change]
    frustration_topics: list[Cluster]
    at_risk_customers: list[AtRiskCustomer]
    at_risk_total: int
    unanswered_clusters: list[Cluster]


# (figure, summary key, name shown): the week's headline numbers
HEADLINES = (
    ("volume", "conversations", "conversations"),
    ("volume", "messages_in", "customer_messages"),
    ("resolution", "resolution_rate", "bot_resolution_rate"),
    ("handoffs", "handoff_rate", "handoff_rate"),
    ("unanswered", "unanswered_rate", "unanswered_rate"),
    ("csat", "csat", "csat"),
    ("emotion_mix", "negative_share", "negative_share"),
)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def weekly_digest(insights: Insights, end: datetime) -> WeeklyDigest:
    week = ReportRange(end - timedelta(days=7), end)
    before = ReportRange(end - timedelta(days=14), week.start)
    changes = []
    cache: dict[tuple[str, ReportRange], dict] = {}
    for figure, key, name in HEADLINES:
        values = []
        for period in (week, before):
            if (figure, period) not in cache:
                cache[(figure, period)] = insights.figure(figure, period).summary["all"]
            values.append(cache[(figure, period)].get(key))
        changes.append(Change(name, *values))
    db = insights.database
    with db.session() as session:
        rows, _ = tagged_conversations(session, week, ReportFilter(), with_text=True)
        known = topics(session)
        unanswered = unanswered_questions(session, week)
    negative: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.label in NEGATIVE_LABELS and (topic := topic_of(row.faq_id, known)) != UNMATCHED:
            negative[topic].append(row.text)
    frustration = [
        Cluster(topic, len(texts), [_short(t) for t in texts[-EXAMPLES:]])
        for topic, texts in sorted(negative.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP]
    ]
    at_risk = search_customers(db, CustomerSearch(at_risk=True, per_page=10))
    return WeeklyDigest(
        week.start,
        week.end,
        changes,
        frustration,
        [AtRiskCustomer(r.id, r.name, r.tier, r.channels) for r in at_risk.rows],
        at_risk.total,
        cluster_unanswered([text for text, _ in unanswered]),
    )


def cluster_unanswered(texts: list[str], top: int = TOP) -> list[Cluster]:
    words = [list(dict.fromkeys(keywords(text))) for text in texts]
    shared = Counter(w for ws in words for w in ws)
    clusters: dict[str, list[str]] = defaultdict(list)
    for text, ws in zip(texts, words, strict=True):
        label = max(ws, key=lambda w: (shared[w], w)) if ws else _short(text).lower()
        clusters[label].append(text)
    ranked = sorted(clusters.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
    return [Cluster(label, len(members), [_short(t) for t in members[:EXAMPLES]]) for label, members in ranked]
