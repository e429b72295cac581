"""Shared fixtures: real databases (SQLite file and a throwaway PostgreSQL database), never mocks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from storage.db import Database
from tests.adapters.conftest import AppServer
from tests.adapters.telegram_fake import FakeTelegram
from tests.adapters.wechat_fake import FakeWeChatApi

POSTGRES_ADMIN_URL = os.environ.get("WARMDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    name = f"warmdesk_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}); start it (see .ci/run)")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path) -> Iterator[Database]:
    """A migrated, empty CRM database on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'crm.db'}")
        db.migrate()
        yield db
        db.dispose()
        return
    db = Database(request.getfixturevalue("postgres_database_url"))
    db.migrate()
    yield db
    empty_postgres(db)
    db.dispose()


def empty_postgres(db: Database) -> None:
    """Every table emptied, so the session's PostgreSQL database is clean for the next test."""
    with db.engine.begin() as connection:
        tables = ", ".join(f'"{t}"' for t in db.table_names() if t != "alembic_version")
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="package")
def fake_telegram() -> Iterator[FakeTelegram]:
    """The local Telegram Bot API (tests/adapters/telegram_fake.py) on a loopback port, one per test package;
    tests call `reset()` before they look at what was sent."""
    fake = FakeTelegram()
    with AppServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(scope="package")
def fake_wechat() -> Iterator[FakeWeChatApi]:
    """The local WeChat API (tests/adapters/wechat_fake.py), one per test package."""
    fake = FakeWeChatApi()
    with AppServer(fake.app) as server:
        fake.url = server.url
        yield fake
