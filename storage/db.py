"""Opening the CRM database (SQLite by default, PostgreSQL via DATABASE_URL) and migrating it."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened; the message says what to do about it."""


P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """How long one database call may wait, so that a locked or hung database gives an error, not a freeze."""

    sqlite_busy_seconds: float = 1.5  # SQLite: wait this long for another writer's lock, then "database is locked"
    connect_seconds: int = 3  # PostgreSQL: libpq connect_timeout (whole seconds, at least 2)
    statement_seconds: float = 5.0  # PostgreSQL: statement_timeout for every statement (0 = none)
    pool_wait_seconds: float = 2.0  # wait for a free pooled connection


async def off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking (database) call in a worker thread, so that the event loop keeps serving everyone else."""
    return await asyncio.to_thread(function, *args, **kwargs)


class Database:
    def __init__(self, url: str, timeouts: DatabaseTimeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or DatabaseTimeouts()
        self.engine = _create_engine(url, self.timeouts)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back otherwise."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        try:
            with self.engine.begin() as connection:
                if self.shared_by_processes:
                    connection.exec_driver_sql("SET statement_timeout = 0")  # a migration may rewrite big tables
                    # Several processes starting at once: one migrates, the others wait and find nothing to do.
                    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                config = alembic_config(self.url)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (DatabaseError, OperationalError) as error:
            raise DatabaseUnavailable(_explain(self.url, error)) from error

    def ping(self) -> None:
        """One round trip to the database; raises if it cannot answer."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    @property
    def shared_by_processes(self) -> bool:
        """PostgreSQL: several server processes may use this database at once (SQLite: one server)."""
        return not self.url.startswith("sqlite")

    def advisory_lock(self, name: str) -> AdvisoryLock:
        """Wait for PostgreSQL's session advisory lock named `name` (any process, any machine); bounded by the
        statement timeout. Release it with `.release()`. Blocking: call it from a worker thread."""
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        connection = self.engine.connect()
        try:
            connection.exec_driver_sql("SELECT pg_advisory_lock(%s)", (key,))
            connection.commit()
        except BaseException:
            connection.invalidate()  # never hand a connection that may still hold or wait for the lock back
            connection.close()
            raise
        return AdvisoryLock(connection, key)

    def compact(self) -> None:
        """After personal data was deleted: on SQLite, copy the write-ahead log into the database file and empty
        it, so deleted rows are not left in `warmdesk.db-wal` (secure_delete has zeroed them in the file)."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()


class AdvisoryLock:
    def __init__(self, connection, key: int) -> None:
        self._connection, self._key = connection, key

    def release(self) -> None:
        try:
            self._connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (self._key,))
            self._connection.commit()
        except Exception:
            self._connection.invalidate()  # closing the session releases the lock on the server anyway
        finally:
            self._connection.close()


MIGRATION_LOCK_KEY = 0x57A12D35  # "warmdesk migrations"
MAX_ROW_ID = 2**63 - 1  # SQLite's and PostgreSQL's largest integer key


def row_id(text: str) -> int | None:
    """A row id typed or sent from outside ("12"), or None: ASCII digits only ("²".isdigit() is True too), and
    small enough for the database to compare."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ROW_ID else None


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _create_engine(url: str, timeouts: DatabaseTimeouts) -> Engine:
    if url.startswith("sqlite"):
        database_file = url.split("///", 1)[-1]
        if database_file and database_file != ":memory:":
            Path(database_file).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": timeouts.sqlite_busy_seconds},
            # A connection per worker thread (the server runs 32): waiting for the pool was a 503 under load.
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_OVERFLOW,
            pool_timeout=timeouts.pool_wait_seconds,
            hide_parameters=True,  # customer text never reaches a log through a database error's message
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        SqliteWriters(timeouts.sqlite_busy_seconds).install(engine)
        return engine
    options = f"-c statement_timeout={int(timeouts.statement_seconds * 1000)}"
    connect_args = {
        "connect_timeout": max(2, int(timeouts.connect_seconds)),
        "options": options,
        # A server (or proxy) that stops answering: the kernel gives up on the connection instead of never.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 30_000,
    }
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=timeouts.pool_wait_seconds,
        connect_args=connect_args,
        hide_parameters=True,
    )


SQLITE_POOL_SIZE, SQLITE_POOL_OVERFLOW = 10, 30


class SqliteWriters:
    """One writing transaction at a time among this process's threads, queued first come, first served.

    SQLite itself allows one writer; the others poll with sleeps of up to 100 ms (its busy handler), so with
    dozens of threads a write waited far longer than the writes took, and past the busy timeout failed as
    "database is locked" (an HTTP 503). Taken at a transaction's first write, as SQLite takes its own lock, and
    released when the connection goes back to the pool (after the commit or rollback). Waiting in this queue is
    bounded by SQLITE_WRITE_QUEUE_SECONDS (each writer ahead is itself bounded by the busy timeout); another
    process's writer (a `kb import`) is still waited for by SQLite's busy timeout."""

    def __init__(self, busy_seconds: float) -> None:
        self._lock = FifoLock()
        self._timeout = max(busy_seconds, SQLITE_WRITE_QUEUE_SECONDS)

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_statement)
        event.listen(engine.pool, "checkin", self._release)
        event.listen(engine.pool, "invalidate", self._release)

    def _before_statement(self, connection, _cursor, statement: str, _parameters, _context, _many) -> None:
        info = connection.connection.info  # the pooled connection's, as the pool events see it
        if info.get(_WRITING) or not _writes(statement):
            return
        if not self._lock.acquire(timeout=self._timeout):
            raise OperationalError(statement, None, sqlite3.OperationalError("database is locked"))
        info[_WRITING] = True

    def _release(self, _dbapi_connection, record, *_exception) -> None:
        if record is not None and record.info.pop(_WRITING, False):
            self._lock.release()


class FifoLock:
    """A lock handed to its waiters in arrival order (threading.Lock lets a newcomer overtake, so under load a
    waiter could starve past its timeout); `release` may be called from any thread."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        return True  # handed over between the timeout and the check: ours after all

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held: by the next in line now
            else:
                self._held = False


SQLITE_WRITE_QUEUE_SECONDS = 10.0  # past this, a write queued behind this process's own writers fails (a 503)
_WRITING = "warmdesk_sqlite_writing"
_READS = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")


def _writes(statement: str) -> bool:
    return not statement.lstrip()[:7].upper().startswith(_READS)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted customer data is overwritten, not left in free pages
    cursor.close()


def _explain(url: str, error: Exception) -> str:
    where = url.split("///", 1)[-1] if url.startswith("sqlite") else url.split("@")[-1]
    if url.startswith("sqlite"):
        return (
            f"The CRM database at {where} cannot be opened ({getattr(error, 'orig', error)}). "
            "It is damaged or not a Warmdesk database: move it away (or point WARMDESK_DATA_DIR at another "
            "folder) and start again; restore FAQs with `run.py kb import FILE`."
        )
    return (
        f"The database at {where} cannot be reached or migrated ({error.__class__.__name__}). "
        "Check DATABASE_URL and that the server is running."
    )
