"""Opening the CRM database (SQLite by default, PostgreSQL via DATABASE_URL) and migrating it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened; the message says what to do about it."""


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)

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
                config = alembic_config(self.url)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (DatabaseError, OperationalError) as error:
            raise DatabaseUnavailable(_explain(self.url, error)) from error

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


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database_file = url.split("///", 1)[-1]
        if database_file and database_file != ":memory:":
            Path(database_file).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


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
