"""The nightly RFM in one set-based statement: scores, tier, segment and churn flag of every customer with orders,
computed by the database (window functions) and written with INSERT … SELECT, with no row passing through Python.

A score is the quintile `ceil(5 · cume_dist())` among customers with orders: the share of customers whose value is
at most this one's, so ties share the higher score (the definition `bot.care.segments.quintiles` documents).
Recency is `6 -` the quintile of the days since the last order, as in the Python definition. Both SQLite
(≥ 3.25) and PostgreSQL have `cume_dist`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, bindparam, text
from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class TierRules:
    vip_min_fm: int
    vip_min_recency: int
    high_potential_min_recency: int
    high_potential_min_fm: int


def _score(share: str, dialect: str) -> str:
    scaled = f"({share}) * 5.0"
    if dialect == "postgresql":
        up = f"CAST(ceil({scaled}) AS INTEGER)"
    else:  # SQLite may be built without ceil(); CAST truncates a positive number toward zero
        up = f"(CAST({scaled} AS INTEGER) + CASE WHEN {scaled} > CAST({scaled} AS INTEGER) THEN 1 ELSE 0 END)"
    return f"MIN(5, MAX(1, {up}))" if dialect != "postgresql" else f"LEAST(5, GREATEST(1, {up}))"


def rfm_statement(dialect: str) -> str:
    return f"""
    INSERT INTO customer_segment (customer_id, recency, frequency, monetary, tier, segment, churn_risk, orders,
                                  total_amount, last_order_at, last_contact_at, computed_at)
    WITH totals AS (
        SELECT customer_id, COUNT(*) AS orders, COALESCE(SUM(amount), 0) AS total_amount,
               MAX(ordered_at) AS last_order_at
        FROM customer_order GROUP BY customer_id
    ), contacts AS (
        SELECT m.customer_id, MAX(m.created_at) AS last_contact_at
        FROM message m WHERE m.direction = 'in' AND m.customer_id IN (SELECT customer_id FROM totals)
        GROUP BY m.customer_id
    ), shares AS (
        SELECT t.customer_id, t.orders, t.total_amount, t.last_order_at, c.last_contact_at,
               CUME_DIST() OVER (ORDER BY t.last_order_at DESC) AS r_share,
               CUME_DIST() OVER (ORDER BY t.orders) AS f_share,
               CUME_DIST() OVER (ORDER BY t.total_amount) AS m_share
        FROM totals t LEFT JOIN contacts c ON c.customer_id = t.customer_id
    ), scored AS (
        SELECT customer_id, orders, total_amount, last_order_at, last_contact_at,
               6 - {_score("r_share", dialect)} AS r, {_score("f_share", dialect)} AS f,
               {_score("m_share", dialect)} AS m,
               CASE WHEN last_contact_at IS NOT NULL AND last_contact_at > last_order_at
                    THEN last_contact_at ELSE last_order_at END AS last_activity
        FROM shares
    )
    SELECT customer_id, r, f, m,
           CASE WHEN f + m >= :vip_min_fm AND r >= :vip_min_recency THEN 'vip'
                WHEN r >= :hp_min_recency AND f + m >= :hp_min_fm THEN 'high_potential'
                ELSE 'regular' END,
           CASE WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'champions'
                WHEN f >= 4 AND r >= 3 THEN 'loyal'
                WHEN f >= 4 THEN 'at_risk'
                WHEN r >= 4 AND f <= 2 THEN 'new'
                WHEN r <= 2 AND f <= 2 THEN 'hibernating'
                ELSE 'needs_attention' END,
           last_activity <= :churn_cutoff,
           orders, total_amount, last_order_at, last_contact_at, :now
    FROM scored
    """


def insert_segments(session: Session, rules: TierRules, now: datetime, churn_cutoff: datetime) -> None:
    """Fill the (emptied) customer_segment table from the orders and messages."""
    dialect = session.get_bind().dialect.name
    statement = text(rfm_statement(dialect)).bindparams(
        bindparam("now", type_=DateTime()), bindparam("churn_cutoff", type_=DateTime())
    )
    session.execute(
        statement,
        {
            "vip_min_fm": rules.vip_min_fm,
            "vip_min_recency": rules.vip_min_recency,
            "hp_min_recency": rules.high_potential_min_recency,
            "hp_min_fm": rules.high_potential_min_fm,
            "now": now,
            "churn_cutoff": churn_cutoff,
        },
    )
