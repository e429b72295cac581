"""Customer import (CSV / JSONL, validated, idempotent) and the nightly RFM tiers, segments and churn warnings."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

import run
from bot.business import load_business_file
from bot.care.scheduler import Scheduler
from bot.care.segments import NIGHTLY, quintiles
from bot.care.wiring import open_segments
from bot.handoff.wiring import trigger_settings
from bot.runtime import open_database
from bot.settings import Settings
from storage.jobs import JobRepository
from storage.models import Customer, CustomerOrder, JobStatus, utcnow
from storage.segments import SegmentRepository
from tests.care.helpers import Clock


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path / "data"))
    database = open_database(Settings())
    yield database
    database.dispose()


def days_ago(n: float) -> str:
    return (utcnow() - timedelta(days=n)).date().isoformat()


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def customers(db) -> dict[str, Customer]:
    with db.session() as session:
        return {c.external_id: c for c in session.exec(select(Customer)).all() if c.external_id}


def test_a_jsonl_import_creates_customers_with_orders_and_the_same_file_again_changes_nothing(db, tmp_path, capsys):
    source = tmp_path / "crm.jsonl"
    write_jsonl(
        source,
        [
            {"external_id": "C1", "name": "王芳", "phone": "+86 138 0000 0001", "account_manager": "slack:U9",
             "orders": [{"id": "O1", "date": days_ago(3), "amount": 199.0}, {"id": "O2", "date": days_ago(40),
                                                                             "amount": "58.5"}]},
            {"external_id": "C2", "name": "Sam", "email": "sam@example.com"},
        ],
    )  # fmt: skip
    assert run.main(["customer", "import", str(source)]) == 0
    assert "customers: 2 new, 0 updated, 0 unchanged; orders: 2 new" in capsys.readouterr().out
    assert run.main(["customer", "import", str(source)]) == 0
    assert "customers: 0 new, 0 updated, 2 unchanged; orders: 0 new, 0 updated" in capsys.readouterr().out
    known = customers(db)
    assert known["C1"].account_manager == "slack:U9" and known["C1"].display_name == "王芳"
    with db.session() as session:
        assert len(session.exec(select(CustomerOrder)).all()) == 2


def test_a_csv_import_matches_a_chat_customer_by_phone_and_updates_them(db, tmp_path, capsys):
    with db.session() as session:
        chat_customer = Customer(display_name="wx user", phone="13800000002")
        session.add(chat_customer)
        session.flush()
        chat_id = chat_customer.id
    source = tmp_path / "crm.csv"
    source.write_text(
        "external_id,name,phone,account_manager,order_id,order_date,amount\n"
        f"C7,李雷,13800000002,ann,O1,{days_ago(1)},10\n"
        f"C7,李雷,13800000002,ann,O2,{days_ago(2)},20.5\n",
        encoding="utf-8",
    )
    assert run.main(["customer", "import", str(source)]) == 0
    assert "customers: 0 new, 1 updated" in capsys.readouterr().out
    matched = customers(db)["C7"]
    assert (matched.id, matched.display_name, matched.account_manager) == (chat_id, "李雷", "ann")


def test_bad_lines_are_reported_with_their_numbers_and_nothing_is_imported(db, tmp_path, capsys):
    source = tmp_path / "crm.jsonl"
    source.write_text(
        json.dumps({"external_id": "C1", "name": "ok"}) + "\n"
        "{not json\n"
        + json.dumps({"name": "no id"})
        + "\n"
        + json.dumps({"external_id": "C4", "orders": [{"id": "O1", "date": "yesterday", "amount": 5}]})
        + "\n"
        + json.dumps({"external_id": "C5", "email": "not-an-email"})
        + "\n"
        + json.dumps({"external_id": "C6", "orders": [{"id": "O1", "date": "2026-01-01", "amount": -3}]})
        + "\n",
        encoding="utf-8",
    )
    assert run.main(["customer", "import", str(source)]) == 1
    err = capsys.readouterr().err
    for line in (2, 3, 4, 5, 6):
        assert f"crm.jsonl:{line}:" in err
    assert "crm.jsonl:1:" not in err and "nothing imported" in err
    assert customers(db) == {}

    assert run.main(["customer", "import", str(source), "--skip-bad"]) == 0
    assert set(customers(db)) == {"C1"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("crm.xlsx", "x", "use .csv or .jsonl"), ("missing.csv", None, "no such file")],
)
def test_an_unusable_file_is_one_line_and_status_2(db, tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert run.main(["customer", "import", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_a_csv_with_an_unknown_column_names_it(db, tmp_path, capsys):
    source = tmp_path / "crm.csv"
    source.write_text("external_id,nickname\nC1,x\n", encoding="utf-8")
    assert run.main(["customer", "import", str(source)]) == 1
    assert "crm.csv:1: unknown column(s): nickname" in capsys.readouterr().err


def test_quintiles_give_5_to_the_top_fifth_and_share_ties():
    assert list(quintiles(__import__("numpy").array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]))) == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
        5,
        5,
    ]
    assert list(quintiles(__import__("numpy").array([1.0, 1, 1, 1]))) == [5, 5, 5, 5]


def test_rfm_makes_the_big_recent_buyer_vip_warns_about_the_silent_one_and_keeps_a_staff_tier(db, tmp_path, capsys):
    rows = []
    for n in range(10):  # a spread of ordinary customers
        rows.append(
            {
                "external_id": f"R{n}",
                "orders": [
                    {"id": f"R{n}-{k}", "date": days_ago(20 + n * 3), "amount": 30 + n} for k in range(1 + n % 3)
                ],
            }
        )
    rows.append(
        {"external_id": "BIG", "orders": [{"id": f"B{k}", "date": days_ago(2 + k), "amount": 800} for k in range(8)]}
    )
    rows.append({"external_id": "GONE", "orders": [{"id": "G1", "date": days_ago(200), "amount": 40}]})
    rows.append({"external_id": "GOLD", "orders": [{"id": "X1", "date": days_ago(300), "amount": 5}]})
    source = tmp_path / "crm.jsonl"
    write_jsonl(source, rows)  # fmt: skip
    assert run.main(["customer", "import", str(source)]) == 0
    with db.session() as session:
        gold = session.exec(select(Customer).where(Customer.external_id == "GOLD")).one()
        gold.tier = "gold"  # set by staff: not the nightly job's to change
        session.add(gold)

    assert run.main(["segments", "--recompute", "--export", str(tmp_path / "all.csv")]) == 0
    out = capsys.readouterr().out
    assert "13 customers" in out
    known = customers(db)
    assert known["BIG"].tier == "vip" and known["GOLD"].tier == "gold"
    assert "vip" in trigger_settings(Settings()).vip_tiers  # the handoff fast lane reads this tier
    exported = {row["external_id"]: row for row in csv.DictReader((tmp_path / "all.csv").open(encoding="utf-8"))}
    assert exported["BIG"]["segment"] == "champions" and exported["BIG"]["churn_risk"] == "False"
    assert exported["GONE"]["churn_risk"] == "True" and exported["R0"]["churn_risk"] == "False"

    assert run.main(["segments", "--churn", "--export", str(tmp_path / "churn.csv")]) == 0
    churn = [row["external_id"] for row in csv.DictReader((tmp_path / "churn.csv").open(encoding="utf-8"))]
    assert sorted(churn) == ["GOLD", "GONE"]


async def test_the_nightly_job_recomputes_and_schedules_the_next_night(database):
    clock = Clock()  # Monday 10:00 UTC
    jobs = JobRepository(database)
    segments = open_segments(load_business_file(), database, ZoneInfo("UTC"), jobs, clock)
    segments.ensure_scheduled()
    segments.ensure_scheduled()  # a second worker starting: still one
    [pending] = jobs.listing(status=JobStatus.PENDING, kind=NIGHTLY)
    assert pending.due_at == clock.now.replace(hour=3) + timedelta(days=1)

    with database.session() as session:
        customer = Customer(display_name="x")
        session.add(customer)
        session.flush()
        session.add(CustomerOrder(customer_id=customer.id, external_id="o", ordered_at=clock.now, amount=9))
    worker = Scheduler(jobs, {NIGHTLY: segments.nightly}, clock=clock)
    clock.advance(hours=17)
    assert await worker.run_due() == 1
    assert SegmentRepository(database).segment_of(customer.id) is not None
    [after] = jobs.listing(status=JobStatus.PENDING, kind=NIGHTLY)
    assert after.due_at == pending.due_at + timedelta(days=1)


def test_the_set_based_sql_scores_every_customer_as_the_documented_quintile_rules_do(database):
    """The nightly SQL against the reference definition (bot.care.segments), ties included, on both databases."""
    import random

    import numpy as np
    from sqlalchemy import insert

    from bot.care.segments import SegmentRules, segment_for, tier_for
    from storage.models import CustomerSegment

    rng, now = random.Random(5), utcnow().replace(microsecond=0)
    with database.session() as session:
        session.execute(insert(Customer), [{"display_name": f"c{n}", "tier": "standard"} for n in range(300)])
        orders = [
            {"customer_id": 1 + n % 300, "external_id": f"o{n}", "amount": float(rng.choice([5, 20, 20, 80, 300])),
             "ordered_at": now - timedelta(days=rng.choice([1, 10, 10, 45, 120, 400]))}
            for n in range(900) if rng.random() < 0.8 or n < 300
        ]  # fmt: skip
        session.execute(insert(CustomerOrder), orders)
    segments = open_segments(load_business_file(), database, ZoneInfo("UTC"), clock=lambda: now)
    run_result = segments.compute()

    by_customer: dict[int, list[dict]] = {}
    for order in orders:
        by_customer.setdefault(order["customer_id"], []).append(order)
    ids = sorted(by_customer)
    days = np.array([(now - max(o["ordered_at"] for o in by_customer[i])).total_seconds() / 86400 for i in ids])
    r = 6 - quintiles(days)
    f = quintiles(np.array([len(by_customer[i]) for i in ids], dtype=float))
    m = quintiles(np.array([sum(o["amount"] for o in by_customer[i]) for i in ids]))
    rules = SegmentRules()
    expected = {
        i: (int(r[k]), int(f[k]), int(m[k]), tier_for(r[k], f[k], m[k], rules), segment_for(r[k], f[k], m[k]),
            days[k] >= rules.churn_after_days)
        for k, i in enumerate(ids)
    }  # fmt: skip
    with database.session() as session:
        stored = {
            s.customer_id: (s.recency, s.frequency, s.monetary, s.tier, s.segment, bool(s.churn_risk))
            for s in session.exec(select(CustomerSegment)).all()
        }
        tiers = {c.id: c.tier for c in session.exec(select(Customer)).all()}
    assert stored == expected
    assert {i: tiers[i] for i in ids} == {i: expected[i][3] for i in ids}
    assert run_result.customers == len(ids) and run_result.churn_risk == sum(e[5] for e in expected.values())
