"""What the dashboard shows for one figure: its headline numbers by language (all / zh / en), the chart specs
that `static/insights.js` draws with ECharts, and the table under the chart. Only presentation: the numbers
come unchanged from `bot.insights` (the same ones the JSON and CSV endpoints give)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storage.reports import LANGUAGES, Figure

Say = Callable[..., str]
KEYS = ("all", *LANGUAGES)
EMOTION_ORDER = ("joy", "surprise", "neutral", "anxiety", "sadness", "anger")
GROUPS = ("bot_only", "before_handoff", "after_handoff")


@dataclass
class Card:
    name: str
    title: str
    help: str = ""
    summary: list[tuple[str, list[str]]] = field(default_factory=list)  # (label, [all, zh, en])
    charts: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def minutes(value: float | None) -> str:
    return "–" if value is None else f"{value / 60:.1f} min"


def number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _summary(figure: Figure, metrics: list[tuple[str, str, Callable[[Any], str]]], t: Say, group: str | None = None):
    lines = []
    for key, label, show in metrics:
        values = []
        for language in KEYS:
            cell = figure.summary.get(language, {})
            cell = cell.get(group, {}) if group else cell
            values.append(show(cell.get(key)))
        lines.append((t(label), values))
    return lines


def _per_day(figure: Figure, value: Callable[[dict], float | None], t: Say) -> tuple[list[str], list[dict]]:
    """A series per language over the days in the rows (sums first, then `value` of each day's sums)."""
    days = sorted({row["day"] for row in figure.rows})
    sums: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in figure.rows:
        if row["language"] in LANGUAGES:
            for column, cell in row.items():
                if isinstance(cell, int | float):
                    sums[(row["day"], row["language"])][column] += cell
    series = [
        {"name": t(f"ins.lang.{language}"), "data": [value(sums[(day, language)]) for day in days]}
        for language in LANGUAGES
    ]
    return days, series


def _share(part: str, whole: str) -> Callable[[dict], float | None]:
    return lambda cell: round(cell[part] / cell[whole], 4) if cell.get(whole) else None


def _by_language(categories: list[str], count: Callable[[str, str], float | None], t: Say) -> list[dict]:
    return [
        {"name": t(f"ins.lang.{language}"), "data": [count(c, language) for c in categories]} for language in LANGUAGES
    ]


def _with_daily_share(card: Card, figure: Figure, part: str, whole: str, t: Say) -> Card:
    """The card's chart: `part` as a share of `whole` per day and language; its table under it."""
    days, series = _per_day(figure, _share(part, whole), t)
    card.charts.append({"kind": "line", "x": days, "series": series, "percent": True})
    _table(card, figure, t)
    return card


def _table(card: Card, figure: Figure, t: Say) -> None:
    card.columns = list(figure.columns)
    card.rows = [[number(row.get(column)) for column in figure.columns] for row in figure.rows]


def volume(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.volume"))
    card.summary = _summary(
        figure,
        [
            ("conversations", "m.conversations", number),
            ("messages", "m.messages", number),
            ("messages_in", "m.messages_in", number),
            ("messages_out", "m.messages_out", number),
        ],
        t,
    )
    days, messages = _per_day(figure, lambda c: c.get("messages_in", 0) + c.get("messages_out", 0), t)
    _, conversations = _per_day(figure, lambda c: c.get("conversations", 0), t)
    for line in conversations:
        line["name"] = f"{t('m.conversations')} · {line['name']}"
        line["line"] = True
    for bar in messages:
        bar["name"] = f"{t('m.messages')} · {bar['name']}"
        bar["stack"] = "messages"
    card.charts.append({"kind": "bar", "x": days, "series": [*messages, *conversations]})
    _table(card, figure, t)
    return card


def resolution(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.resolution"), t("help.resolution"))
    card.summary = _summary(
        figure,
        [
            ("questions", "m.questions", number),
            ("answered", "m.answered", number),
            ("resolved", "m.resolved", number),
            ("resolution_rate", "m.resolution_rate", percent),
        ],
        t,
    )
    return _with_daily_share(card, figure, "resolved", "questions", t)


def handoffs(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.handoffs"))
    card.summary = _summary(
        figure,
        [
            ("conversations", "m.conversations", number),
            ("handed_off", "m.handed_off", number),
            ("handoff_rate", "m.handoff_rate", percent),
            ("handoffs", "m.handoffs", number),
        ],
        t,
    )
    reasons = list(figure.summary.get("all", {}).get("reasons", {}))
    counts = {(r["reason"], r["language"]): r["handoffs"] for r in figure.rows}
    card.charts.append(
        {"kind": "bar", "x": reasons, "series": _by_language(reasons, lambda c, lang: counts.get((c, lang), 0), t)}
    )
    _table(card, figure, t)
    return card


def sla(figure: Figure, t: Say) -> Card:
    targets = figure.summary.get("all", {})
    card = Card(
        figure.name,
        t("fig.sla"),
        t(
            "help.sla",
            first=number((targets.get("first_response_target_seconds") or 0) / 60),
            resolution=number((targets.get("resolution_target_seconds") or 0) / 60),
        ),
    )
    card.summary = _summary(
        figure,
        [
            ("handoffs", "m.handoffs", number),
            ("first_response_median_seconds", "m.first_response_median", minutes),
            ("first_response_p90_seconds", "m.first_response_p90", minutes),
            ("first_response_within_target", "m.first_response_within", percent),
            ("resolution_median_seconds", "m.resolution_median", minutes),
            ("resolution_p90_seconds", "m.resolution_p90", minutes),
            ("resolution_within_target", "m.resolution_within", percent),
        ],
        t,
    )
    agents = [row["agent"] for row in figure.rows]

    def in_minutes(row: dict, key: str) -> float | None:
        return None if row[key] is None else round(row[key] / 60, 1)

    series = [
        {"name": t(label), "data": [in_minutes(row, key) for row in figure.rows]}
        for key, label in (
            ("first_response_median_seconds", "m.first_response_median"),
            ("resolution_median_seconds", "m.resolution_median"),
        )
    ]
    card.charts.append({"kind": "bar", "x": agents, "unit": t("s.minutes"), "series": series})
    _table(card, figure, t)
    return card


def csat(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.csat"))
    card.summary = _summary(
        figure,
        [("ratings", "m.ratings", number), ("average", "m.average", number), ("csat", "m.csat", percent)],
        t,
    )
    scores = ["1", "2", "3", "4", "5"]

    def rated(score: str, language: str) -> int:
        distribution = figure.summary.get(language, {}).get("distribution", {})
        return distribution.get(int(score), distribution.get(score, 0))

    card.charts.append({"kind": "bar", "x": scores, "series": _by_language(scores, rated, t)})
    weeks = sorted({row["week"] for row in figure.rows})
    trend = {(r["week"], r["language"]): r["csat"] for r in figure.rows}
    card.charts.append(
        {
            "kind": "line",
            "x": weeks,
            "percent": True,
            "series": _by_language(weeks, lambda w, lang: trend.get((w, lang)), t),
        }
    )
    _table(card, figure, t)
    return card


def emotion_mix(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.emotion_mix"), t("help.emotion"))
    card.summary = _summary(
        figure, [("tagged", "m.tagged", number), ("negative_share", "m.negative_share", percent)], t
    )
    days = sorted({row["day"] for row in figure.rows})
    labels = [e for e in EMOTION_ORDER if any(r["emotion"] == e for r in figure.rows)]
    labels += sorted({r["emotion"] for r in figure.rows} - set(labels))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in figure.rows:
        counts[(row["day"], row["emotion"])] += row["messages"]
    card.charts.append(
        {
            "kind": "bar",
            "x": days,
            "emotions": True,
            "series": [
                {"name": _emotion(label, t), "key": label, "stack": "mix", "data": [counts[(d, label)] for d in days]}
                for label in labels
            ],
        }
    )
    _table(card, figure, t)
    return card


def emotion_recovery(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.emotion_recovery"), t("help.emotion"))
    for group in GROUPS:
        for label, values in _summary(
            figure,
            [
                ("negative_conversations", "m.negative_conversations", number),
                ("conversion_rate", "m.conversion", percent),
                ("recovery_median_seconds", "m.recovery_median", minutes),
            ],
            t,
            group,
        ):
            card.summary.append((f"{t('group.' + group)} · {label}", values))
    names = [t(f"group.{g}") for g in GROUPS]
    card.charts.append(
        {
            "kind": "bar",
            "x": names,
            "percent": True,
            "series": [
                {
                    "name": t(f"ins.lang.{language}"),
                    "data": [figure.summary.get(language, {}).get(g, {}).get("conversion_rate") for g in GROUPS],
                }
                for language in LANGUAGES
            ],
        }
    )
    _table(card, figure, t)
    return card


def effort(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.effort"))
    card.summary = _summary(
        figure,
        [
            ("customers", "m.customers", number),
            ("channels_per_customer", "m.channels_per_customer", number),
            ("multi_channel_share", "m.multi_channel_share", percent),
            ("repeated_rate", "m.repeated_rate", percent),
            ("handoffs_per_issue", "m.handoffs_per_issue", number),
        ],
        t,
    )
    used = sorted({str(r["channels"]) for r in figure.rows}, key=int)
    counts = {(str(r["channels"]), r["language"]): r["customers"] for r in figure.rows}
    card.charts.append(
        {
            "kind": "bar",
            "x": used,
            "xname": t("cust.channels"),
            "series": _by_language(used, lambda c, lang: counts.get((c, lang), 0), t),
        }
    )
    _table(card, figure, t)
    return card


def negative_heatmap(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.negative_heatmap"), t("help.heatmap"))
    per_topic = figure.summary.get("all", {}).get("topics", {})
    top = list(per_topic)[:8]
    for topic in top:
        values = []
        for language in KEYS:
            cell = figure.summary.get(language, {}).get("topics", {}).get(topic)
            values.append(f"{cell['negative']} ({percent(cell['negative_share'])})" if cell else "–")
        card.summary.append((topic, values))
    weeks = sorted({r["week"] for r in figure.rows})
    topics = list(reversed(list(per_topic)))  # the most negative at the top of the chart
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for row in figure.rows:
        cells[(row["topic"], row["week"])] += row["negative"]
    card.charts.append(
        {
            "kind": "heatmap",
            "x": weeks,
            "y": topics,
            "data": [[w, i, cells[(topic, week)]] for w, week in enumerate(weeks) for i, topic in enumerate(topics)],
            "max": max(cells.values(), default=0),
        }
    )
    _table(card, figure, t)
    return card


def unanswered(figure: Figure, t: Say) -> Card:
    card = Card(figure.name, t("fig.unanswered"))
    card.summary = _summary(
        figure,
        [
            ("questions", "m.questions", number),
            ("unanswered", "m.unanswered", number),
            ("unanswered_rate", "m.unanswered_rate", percent),
            ("clarified", "m.clarified", number),
        ],
        t,
    )
    return _with_daily_share(card, figure, "no_answer", "questions", t)


def _emotion(label: str, t: Say) -> str:
    try:
        return t(f"emotion.{label}")
    except KeyError:  # a label the emotion model gained after these texts
        return label


CARDS: dict[str, Callable[[Figure, Say], Card]] = {
    "volume": volume,
    "resolution": resolution,
    "handoffs": handoffs,
    "sla": sla,
    "csat": csat,
    "emotion_mix": emotion_mix,
    "emotion_recovery": emotion_recovery,
    "effort": effort,
    "negative_heatmap": negative_heatmap,
    "unanswered": unanswered,
}


def emotion_label(label: str, t: Say) -> str:
    return _emotion(label, t)
