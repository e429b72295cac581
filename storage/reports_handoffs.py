"""Manager insights, part 2: handoffs — how often and why, agents' response and resolution times against the
SLA targets, and the customers' ratings (CSAT). Conventions: `storage/reports.py`.

- handoff rate = conversations started in the range that got at least one handoff / conversations started;
  reasons count the handoffs requested in the range;
- first response = from the handoff request until an agent claimed it (the customer is told a named person
  joined); resolution = from the request until an agent closed it (outcome "resolved"). A handoff nobody has
  claimed yet is outside its first-response target, one still open is outside its resolution target;
- CSAT counts ratings (1–5) of handoffs closed in the range: the CSAT score is the share rated 4 or 5.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from sqlalchemy import distinct, func
from sqlmodel import Session, select

from storage.models import Conversation, Customer, Handoff
from storage.reports import (
    LANGUAGES,
    Figure,
    ReportFilter,
    ReportRange,
    aware,
    counters,
    customer_filters,
    day_of,
    language_keys,
    percentile,
    rate,
    week_of,
)


@dataclass(frozen=True, slots=True)
class SlaTargets:
    first_response: timedelta = timedelta(minutes=15)
    resolution: timedelta = timedelta(hours=1)


def handoffs_in(query, period: ReportRange, filters: ReportFilter, moment=Handoff.requested_at):
    query = (
        query.join(Customer, Customer.id == Handoff.customer_id)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(moment >= period.start, moment < period.end)
    )
    return customer_filters(query, filters, Conversation.platform)


def handoffs(session: Session, period: ReportRange, filters: ReportFilter) -> Figure:
    started = (Conversation.started_at >= period.start, Conversation.started_at < period.end)
    handed_off = customer_filters(
        select(Customer.language, func.count(distinct(Handoff.conversation_id)))
        .select_from(Conversation)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(Handoff, Handoff.conversation_id == Conversation.id)
        .where(*started),
        filters,
        Conversation.platform,
    ).group_by(Customer.language)
    conversations = customer_filters(
        select(Customer.language, func.count())
        .select_from(Conversation)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(*started),
        filters,
        Conversation.platform,
    ).group_by(Customer.language)
    totals = counters()
    for column, query in (("handed_off", handed_off), ("conversations", conversations)):
        for language, count in session.execute(query):
            for key in language_keys(language):
                totals[key][column] += count

    reasons = handoffs_in(select(Handoff.reason, Customer.language, func.count()), period, filters).group_by(
        Handoff.reason, Customer.language
    )
    per_reason = {key: defaultdict(int) for key in ("all", *LANGUAGES)}
    rows = []
    for reason, language, count in session.execute(reasons):
        rows.append({"reason": reason, "language": language, "handoffs": count})
        for key in language_keys(language):
            per_reason[key][reason] += count
    rows.sort(key=lambda r: (r["reason"], r["language"] or ""))
    summary = {
        key: {
            "conversations": values.get("conversations", 0),
            "handed_off": values.get("handed_off", 0),
            "handoff_rate": rate(values.get("handed_off", 0), values.get("conversations", 0)),
            "handoffs": sum(per_reason[key].values()),
            "reasons": dict(sorted(per_reason[key].items(), key=lambda kv: (-kv[1], kv[0]))),
        }
        for key, values in totals.items()
    }
    return Figure("handoffs", ("reason", "language", "handoffs"), rows, summary)


def sla(session: Session, period: ReportRange, filters: ReportFilter, targets: SlaTargets) -> Figure:
    query = handoffs_in(
        select(
            Handoff.agent,
            Customer.language,
            Handoff.requested_at,
            Handoff.claimed_at,
            Handoff.resolved_at,
            Handoff.outcome,
        ),
        period,
        filters,
    )
    first: dict[str, list[float]] = defaultdict(list)
    resolution: dict[str, list[float]] = defaultdict(list)
    count: dict[str, int] = defaultdict(int)
    per_agent: dict[str, dict[str, list[float] | int]] = defaultdict(
        lambda: {"handoffs": 0, "first": [], "resolution": []}
    )
    for agent, language, requested, claimed, resolved, outcome in session.execute(query):
        requested = aware(requested)
        response = (aware(claimed) - requested).total_seconds() if claimed else None
        solved = (aware(resolved) - requested).total_seconds() if resolved and outcome == "resolved" else None
        for key in language_keys(language):
            count[key] += 1
            if response is not None:
                first[key].append(response)
            if solved is not None:
                resolution[key].append(solved)
        if agent:
            row = per_agent[agent]
            row["handoffs"] += 1
            if response is not None:
                row["first"].append(response)
            if solved is not None:
                row["resolution"].append(solved)

    first_target = targets.first_response.total_seconds()
    resolution_target = targets.resolution.total_seconds()

    def numbers(total: int, responses: list[float], resolutions: list[float]) -> dict[str, object]:
        return {
            "handoffs": total,
            "first_response_median_seconds": float(median(responses)) if responses else None,
            "first_response_p90_seconds": percentile(responses, 0.9),
            "first_response_within_target": rate(sum(1 for s in responses if s <= first_target), total),
            "resolution_median_seconds": float(median(resolutions)) if resolutions else None,
            "resolution_p90_seconds": percentile(resolutions, 0.9),
            "resolution_within_target": rate(sum(1 for s in resolutions if s <= resolution_target), total),
        }

    summary = {key: numbers(count[key], first[key], resolution[key]) for key in ("all", *LANGUAGES)}
    for values in summary.values():
        values["first_response_target_seconds"] = first_target
        values["resolution_target_seconds"] = resolution_target
    columns = (
        "agent",
        "handoffs",
        "first_response_median_seconds",
        "first_response_within_target",
        "resolution_median_seconds",
        "resolution_within_target",
    )
    rows = []
    for agent, row in sorted(per_agent.items()):
        values = numbers(row["handoffs"], row["first"], row["resolution"])
        rows.append({"agent": agent, **{c: values[c] for c in columns[1:]}})
    return Figure("sla", columns, rows, summary)


def csat(session: Session, period: ReportRange, filters: ReportFilter) -> Figure:
    query = handoffs_in(
        select(func.date(Handoff.resolved_at), Customer.language, Handoff.rating, func.count()),
        period,
        filters,
        moment=Handoff.resolved_at,
    )
    query = query.where(Handoff.rating.is_not(None)).group_by(
        func.date(Handoff.resolved_at), Customer.language, Handoff.rating
    )
    distribution = {key: {score: 0 for score in range(1, 6)} for key in ("all", *LANGUAGES)}
    weeks: dict[tuple[str, str | None], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for day, language, rating, count in session.execute(query):
        weeks[(week_of(day_of(day)), language)][rating] += count
        for key in language_keys(language):
            distribution[key][rating] = distribution[key].get(rating, 0) + count

    def numbers(scores: dict[int, int]) -> dict[str, object]:
        total = sum(scores.values())
        return {
            "ratings": total,
            "average": round(sum(s * n for s, n in scores.items()) / total, 3) if total else None,
            "csat": rate(scores.get(4, 0) + scores.get(5, 0), total),
        }

    rows = [
        {"week": week, "language": language, **numbers(scores)}
        for (week, language), scores in sorted(weeks.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]
    summary = {key: {**numbers(scores), "distribution": scores} for key, scores in distribution.items()}
    return Figure("csat", ("week", "language", "ratings", "average", "csat"), rows, summary)
