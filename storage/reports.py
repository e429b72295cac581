"""Manager insights, part 1 (SQL only: emotion labels come from the caller, `bot/insights`): what every report
shares (range, filters, the figure shape, topics) and the figures that are plain counts of messages: volume,
unanswered rate, emotion mix, topic × week heatmap of negative emotion. Handoff figures are in
`storage/reports_handoffs.py`, per-customer journeys in `storage/reports_journeys.py`; `bot/insights` names them all.

Conventions every figure follows (the README's "Insights" section repeats them for managers):
- a range is half-open, [start, end), in UTC; a message counts by its `created_at`;
- language: a message's own detected language; a conversation, handoff or rating counts under its customer's
  language (the language the customer last wrote in). Every figure has an "all" summary and one per
  language in `LANGUAGES`; other languages only count in "all";
- filters: channel (the platform), language, tier (the customer's tier); forgotten customers are deleted rows,
  so they are in no figure;
- a *question* is a customer message the bot had to answer: decision answer, clarify, no_answer or handoff;
- a message's *topic* is the first tag of the FAQ entry it was matched to, or the entry's id when it has no
  tags; a message matched to no entry has the topic `UNMATCHED`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, select

from storage.models import Conversation, Customer, FaqRecord, Message

LANGUAGES = ("zh", "en")
QUESTION_DECISIONS = ("answer", "clarify", "no_answer", "handoff")
UNMATCHED = "(no topic)"
DAY_SECONDS = 86400.0


@dataclass(frozen=True, slots=True)
class ReportRange:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("the range ends before it starts")


@dataclass(frozen=True, slots=True)
class ReportFilter:
    channel: str | None = None
    language: str | None = None
    tier: str | None = None


@dataclass(slots=True)
class Figure:
    """One chart's data: `summary` per language ("all", "zh", "en"), `rows` for its table and CSV."""

    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"figure": self.name, "columns": list(self.columns), "rows": self.rows, "summary": self.summary}


# -- shared helpers -----------------------------------------------------------------------------------------


def aware(moment: datetime) -> datetime:
    """Databases hand naive UTC datetimes back (SQLite always, PostgreSQL for these columns)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch_seconds(session: Session, column):
    """A datetime column as seconds since 1970 (UTC), computed by the database: parsing tens of thousands of
    datetimes in Python costs more than the query."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.extract("epoch", column)


def read(session: Session, query):
    """Plain rows without the ORM's per-row work (for the figures that read many rows)."""
    return session.connection().execute(query).all()


def day_of(value: Any) -> str:
    """SQLite's date() gives text, PostgreSQL's a date: both as YYYY-MM-DD."""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def week_of(day: str) -> str:
    year, week, _ = date.fromisoformat(day[:10]).isocalendar()
    return f"{year}-W{week:02d}"


def language_keys(language: str | None) -> tuple[str, ...]:
    return ("all", language) if language in LANGUAGES else ("all",)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def percentile(values: Iterable[float], share: float) -> float | None:
    """Nearest-rank percentile (the p90 of 10 values is the 9th smallest); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))  # ceil(share * n) without float surprises
    return float(ordered[min(rank, len(ordered)) - 1])


def counters() -> dict[str, dict[str, Any]]:
    return {key: defaultdict(int) for key in ("all", *LANGUAGES)}


def message_filters(query, filters: ReportFilter, period: ReportRange, *, inbound: bool = True):
    """Messages in `period` that match `filters` (the customer is joined only when the tier is asked for)."""
    query = query.where(Message.created_at >= period.start, Message.created_at < period.end)
    if inbound:
        query = query.where(Message.direction == "in")
    if filters.channel:
        query = query.where(Message.platform == filters.channel)
    if filters.language:
        query = query.where(Message.language == filters.language)
    if filters.tier:
        query = query.join(Customer, Customer.id == Message.customer_id).where(Customer.tier == filters.tier)
    return query


def customer_filters(query, filters: ReportFilter, platform_column):
    """Conversation-level rows (already joined to Customer): channel via `platform_column`, customer's language."""
    if filters.channel:
        query = query.where(platform_column == filters.channel)
    if filters.language:
        query = query.where(Customer.language == filters.language)
    if filters.tier:
        query = query.where(Customer.tier == filters.tier)
    return query


def customer_traits(session: Session, ids: Iterable[int], chunk: int = 5000) -> dict[int, tuple[str | None, str]]:
    """(language, tier) of these customers: looked up by id, cheaper than joining every customer to many rows."""
    wanted, traits = sorted(set(ids)), {}
    for start in range(0, len(wanted), chunk):
        query = select(Customer.id, Customer.language, Customer.tier).where(
            Customer.id.in_(wanted[start : start + chunk])
        )
        traits.update({id_: (language, tier) for id_, language, tier in read(session, query)})
    return traits


def keeps(traits: tuple[str | None, str] | None, filters: ReportFilter) -> bool:
    """Whether a customer with these (language, tier) passes the filters' language and tier."""
    return traits is not None and (
        (not filters.language or traits[0] == filters.language) and (not filters.tier or traits[1] == filters.tier)
    )


def daily_rows(table: dict[tuple[str, str | None], dict[str, int]], columns: tuple[str, ...]) -> list[dict]:
    """Rows of a (day, language) → counts table, in day then language order; `columns` start with both."""
    return [
        {"day": day, "language": language, **{c: counts.get(c, 0) for c in columns[2:]}}
        for (day, language), counts in sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


def topics(session: Session) -> dict[str, str]:
    """FAQ id → topic (its first tag, else the id). Removed entries keep their id as the topic."""
    return {
        faq_id: (tags[0] if tags else faq_id) for faq_id, tags in session.execute(select(FaqRecord.id, FaqRecord.tags))
    }


def topic_of(faq_id: str | None, known: dict[str, str]) -> str:
    if faq_id is None:
        return UNMATCHED
    return known.get(faq_id, faq_id)


# -- message counts -----------------------------------------------------------------------------------------


def volume(session: Session, period: ReportRange, filters: ReportFilter) -> Figure:
    """Conversations started and messages sent (customer → in, bot and agents → out), per day."""
    messages = message_filters(
        select(func.date(Message.created_at), Message.language, Message.direction, func.count()),
        filters,
        period,
        inbound=False,
    ).group_by(func.date(Message.created_at), Message.language, Message.direction)
    conversations = customer_filters(
        select(func.date(Conversation.started_at), Customer.language, func.count())
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.started_at >= period.start, Conversation.started_at < period.end),
        filters,
        Conversation.platform,
    ).group_by(func.date(Conversation.started_at), Customer.language)

    table: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals = counters()
    for day, language, direction, count in session.execute(messages):
        column = "messages_in" if direction == "in" else "messages_out"
        table[(day_of(day), language)][column] += count
        for key in language_keys(language):
            totals[key][column] += count
            totals[key]["messages"] += count
    for day, language, count in session.execute(conversations):
        table[(day_of(day), language)]["conversations"] += count
        for key in language_keys(language):
            totals[key]["conversations"] += count
    columns = ("day", "language", "conversations", "messages_in", "messages_out")
    rows = daily_rows(table, columns)
    summary = {
        key: {c: values.get(c, 0) for c in ("conversations", "messages", "messages_in", "messages_out")}
        for key, values in totals.items()
    }
    return Figure("volume", columns, rows, summary)


def unanswered(session: Session, period: ReportRange, filters: ReportFilter) -> Figure:
    """Questions the bot had no answer for (no_answer), and those it asked to clarify, per day."""
    query = message_filters(
        select(func.date(Message.created_at), Message.language, Message.decision, func.count()), filters, period
    )
    query = query.where(Message.decision.in_(QUESTION_DECISIONS)).group_by(
        func.date(Message.created_at), Message.language, Message.decision
    )
    table: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals = counters()
    for day, language, decision, count in session.execute(query):
        cell = table[(day_of(day), language)]
        cell["questions"] += count
        cell[decision] += count
        for key in language_keys(language):
            totals[key]["questions"] += count
            totals[key][decision] += count
    columns = ("day", "language", "questions", "no_answer", "clarify")
    rows = daily_rows(table, columns)
    summary = {
        key: {
            "questions": values.get("questions", 0),
            "unanswered": values.get("no_answer", 0),
            "clarified": values.get("clarify", 0),
            "unanswered_rate": rate(values.get("no_answer", 0), values.get("questions", 0)),
        }
        for key, values in totals.items()
    }
    return Figure("unanswered", columns, rows, summary)


def emotion_mix(
    session: Session, period: ReportRange, filters: ReportFilter, negative_labels: frozenset[str]
) -> Figure:
    """Customer messages per emotion label, per day."""
    query = message_filters(
        select(func.date(Message.created_at), Message.language, Message.emotion_label, func.count()), filters, period
    )
    query = query.where(Message.emotion_label.is_not(None)).group_by(
        func.date(Message.created_at), Message.language, Message.emotion_label
    )
    rows, totals = [], counters()
    for day, language, label, count in session.execute(query):
        rows.append({"day": day_of(day), "language": language, "emotion": label, "messages": count})
        for key in language_keys(language):
            totals[key][label] += count
    rows.sort(key=lambda r: (r["day"], r["language"] or "", r["emotion"]))
    summary = {}
    for key, counts in totals.items():
        tagged = sum(counts.values())
        negative = sum(n for label, n in counts.items() if label in negative_labels)
        summary[key] = {
            "tagged": tagged,
            "counts": dict(sorted(counts.items())),
            "negative_share": rate(negative, tagged),
        }
    return Figure("emotion_mix", ("day", "language", "emotion", "messages"), rows, summary)


def negative_heatmap(
    session: Session, period: ReportRange, filters: ReportFilter, negative_labels: frozenset[str]
) -> Figure:
    """Negative customer messages per topic and ISO week (the feedback heatmap), and each topic's share."""
    query = message_filters(
        select(
            func.date(Message.created_at),
            Message.language,
            Message.faq_id,
            func.count(),
            func.sum(case((Message.emotion_label.in_(sorted(negative_labels)), 1), else_=0)),
        ),
        filters,
        period,
    )
    query = query.where(Message.emotion_label.is_not(None)).group_by(
        func.date(Message.created_at), Message.language, Message.faq_id
    )
    known = topics(session)
    cells: dict[tuple[str, str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[str, dict[str, list[int]]] = {key: defaultdict(lambda: [0, 0]) for key in ("all", *LANGUAGES)}
    for day, language, faq_id, count, negative in session.execute(query):
        topic = topic_of(faq_id, known)
        cell = cells[(topic, week_of(day_of(day)), language)]
        cell[0] += count
        cell[1] += int(negative or 0)
        for key in language_keys(language):
            totals[key][topic][0] += count
            totals[key][topic][1] += int(negative or 0)
    rows = [
        {"topic": topic, "week": week, "language": language, "messages": n, "negative": negative}
        for (topic, week, language), (n, negative) in sorted(
            cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
        )
    ]
    summary = {
        key: {
            "topics": {
                topic: {"messages": n, "negative": negative, "negative_share": rate(negative, n)}
                for topic, (n, negative) in sorted(per_topic.items(), key=lambda kv: (-kv[1][1], kv[0]))
            }
        }
        for key, per_topic in totals.items()
    }
    return Figure("negative_heatmap", ("topic", "week", "language", "messages", "negative"), rows, summary)


def unanswered_questions(session: Session, period: ReportRange, limit: int = 5000) -> list[tuple[str, str | None]]:
    """(text, language) of the newest questions the bot had no answer for: what the digest groups."""
    query = message_filters(select(Message.text, Message.language), ReportFilter(), period)
    query = query.where(Message.decision == "no_answer").order_by(Message.id.desc()).limit(limit)
    return [(text, language) for text, language in session.execute(query)]
