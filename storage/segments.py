"""Customers and orders from the business's own system, and the RFM segment rows computed from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlmodel import Session

from storage.db import Database
from storage.models import Customer, CustomerOrder, CustomerSegment, Message, utcnow
from storage.segments_sql import TierRules, insert_segments


@dataclass(slots=True)
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    orders_added: int = 0
    orders_updated: int = 0


@dataclass(frozen=True, slots=True)
class OrderTotals:
    customer_id: int
    orders: int
    total_amount: float
    last_order_at: datetime | None
    last_contact_at: datetime | None


class SegmentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- import ----------------------------------------------------------------------------------------------

    def import_customers(self, customers: Iterable, now: datetime | None = None) -> ImportReport:
        """Create or update each `bot.care.customer_file.ImportedCustomer`; the same file twice changes nothing.

        A customer is matched by external id, then by phone, then by email (only when exactly one matches)."""
        report = ImportReport()
        with self._db.session() as session:
            for imported in customers:
                customer = _match(session, imported)
                is_new = customer is None
                if is_new:
                    customer = Customer(external_id=imported.external_id, created_at=now or utcnow())
                changed = False
                for attribute, value in (
                    ("external_id", imported.external_id),
                    ("display_name", imported.name),
                    ("phone", imported.phone),
                    ("email", imported.email),
                    ("account_manager", imported.account_manager),
                    ("language", imported.language),
                ):
                    if value is not None and getattr(customer, attribute) != value:
                        setattr(customer, attribute, value)
                        changed = True
                session.add(customer)
                session.flush()
                orders_changed = self._orders(session, customer.id, imported.orders.values(), report)
                if is_new:
                    report.created += 1
                elif changed or orders_changed:
                    report.updated += 1
                else:
                    report.unchanged += 1
        return report

    @staticmethod
    def _orders(session: Session, customer_id: int, orders: Iterable, report: ImportReport) -> bool:
        known = {
            row.external_id: row
            for row in session.scalars(select(CustomerOrder).where(CustomerOrder.customer_id == customer_id))
        }
        changed = False
        for order in orders:
            row = known.get(order.external_id)
            if row is None:
                session.add(
                    CustomerOrder(
                        customer_id=customer_id,
                        external_id=order.external_id,
                        ordered_at=order.ordered_at,
                        amount=order.amount,
                    )
                )
                report.orders_added += 1
                changed = True
            elif row.ordered_at != order.ordered_at or row.amount != order.amount:
                row.ordered_at, row.amount = order.ordered_at, order.amount
                session.add(row)
                report.orders_updated += 1
                changed = True
        return changed

    # -- RFM -------------------------------------------------------------------------------------------------

    def totals(self) -> list[OrderTotals]:
        """Per customer with at least one order: count, sum, last order, last message from them."""
        with self._db.session() as session:
            orders = session.execute(
                select(
                    CustomerOrder.customer_id,
                    func.count(),
                    func.sum(CustomerOrder.amount),
                    func.max(CustomerOrder.ordered_at),
                ).group_by(CustomerOrder.customer_id)
            ).all()
            contacts = dict(
                session.execute(
                    select(Message.customer_id, func.max(Message.created_at))
                    .where(Message.direction == "in")
                    .group_by(Message.customer_id)
                ).all()
            )
        return [
            OrderTotals(customer_id, count, float(total or 0), _aware(last), _aware(contacts.get(customer_id)))
            for customer_id, count, total, last in orders
        ]

    def recompute(
        self, rules: TierRules, now: datetime, churn_cutoff: datetime, computed_tiers: frozenset[str]
    ) -> tuple[dict[str, int], list[int], int]:
        """The nightly run in the database (`storage.segments_sql`), in one transaction: every segment row anew,
        each customer's computed tier. Returns (customers per tier, those newly at risk of churning, all at risk)."""
        with self._db.session() as session:
            before = set(session.scalars(select(CustomerSegment.customer_id).where(CustomerSegment.churn_risk)))
            session.execute(delete(CustomerSegment))
            insert_segments(session, rules, now, churn_cutoff)
            self._copy_tiers(session, computed_tiers)
            tiers = dict(
                session.execute(select(CustomerSegment.tier, func.count()).group_by(CustomerSegment.tier)).all()
            )
            at_risk = session.scalars(select(CustomerSegment.customer_id).where(CustomerSegment.churn_risk)).all()
        return tiers, sorted(set(at_risk) - before), len(at_risk)

    @staticmethod
    def _copy_tiers(session: Session, computed_tiers: frozenset[str]) -> None:
        """Set-based: one UPDATE per tier, not one per customer; a tier staff gave by hand stays."""
        for tier in session.scalars(select(CustomerSegment.tier).distinct()).all():
            session.execute(
                update(Customer)
                .where(
                    Customer.id.in_(select(CustomerSegment.customer_id).where(CustomerSegment.tier == tier)),
                    or_(Customer.tier.in_(computed_tiers), Customer.tier.is_(None)),
                    or_(Customer.tier != tier, Customer.tier.is_(None)),
                )
                .values(tier=tier)
                .execution_options(synchronize_session=False)
            )

    def replace_segments(self, rows: list[dict], tiers: dict[int, str], computed_tiers: frozenset[str]) -> None:
        """All segment rows at once; each customer's tier follows unless staff gave them a tier of their own."""
        with self._db.session() as session:
            session.execute(delete(CustomerSegment))
            for start in range(0, len(rows), 5000):
                session.execute(insert(CustomerSegment), rows[start : start + 5000])
            for tier in set(tiers.values()):  # set-based: one statement per tier, not one per customer
                session.execute(
                    update(Customer)
                    .where(
                        Customer.id.in_(select(CustomerSegment.customer_id).where(CustomerSegment.tier == tier)),
                        or_(Customer.tier.in_(computed_tiers), Customer.tier.is_(None)),
                        Customer.tier != tier,
                    )
                    .values(tier=tier)
                    .execution_options(synchronize_session=False)
                )

    def segments(self, tier: str | None = None, segment: str | None = None, churn_only: bool = False) -> list:
        query = select(CustomerSegment, Customer.external_id, Customer.display_name, Customer.account_manager).join(
            Customer, Customer.id == CustomerSegment.customer_id
        )
        if tier:
            query = query.where(CustomerSegment.tier == tier)
        if segment:
            query = query.where(CustomerSegment.segment == segment)
        if churn_only:
            query = query.where(CustomerSegment.churn_risk)
        with self._db.session() as session:
            return list(session.execute(query.order_by(CustomerSegment.customer_id)).all())

    def segment_of(self, customer_id: int) -> CustomerSegment | None:
        with self._db.session() as session:
            return session.get(CustomerSegment, customer_id)


def _match(session: Session, imported) -> Customer | None:
    for column, value in (
        (Customer.external_id, imported.external_id),
        (Customer.phone, imported.phone),
        (func.lower(Customer.email), (imported.email or "").lower() or None),
    ):
        if value is None:
            continue
        found = session.scalars(select(Customer).where(column == value).limit(2)).all()
        if len(found) == 1 and (found[0].external_id in (None, imported.external_id)):
            return found[0]
    return None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
