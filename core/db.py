"""The one database session factory, and migrations applied through Alembic."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:  # alembic is imported when migrating: a server's workers never need it
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    """Timezone-aware now; stored as UTC on every backend."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """A time read back naive (SQLite drops the zone, e.g. from max()) as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """DateTime that always comes back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and foreign keys, files get their folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: errors and echo never carry residents' words, phones or XML.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True, pool_pre_ping=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server that is down or a pool that is exhausted fails within seconds, not minutes:
    # a push that cannot be stored is answered 5xx while WeChat still waits, and retried.
    connect_args = {"connect_timeout": 3} if url.startswith("postgresql") else {}
    engine = create_engine(url, connect_args=connect_args, hide_parameters=True,
                           pool_size=10, max_overflow=20, pool_timeout=3)
    event.listen(engine, "checkin", _note_return)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def limit_statements(session: Session, seconds: float) -> None:
    """Bound every statement and lock wait of the session's current transaction (PostgreSQL).

    WeChat gives a push 5 s: a locked table or a slow server must fail the store in
    time to answer 5xx, so WeChat retries, instead of answering after it gave up.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    millis = str(max(int(seconds * 1000), 50))
    session.connection().exec_driver_sql(  # the driver's own SQL: twice a push
        "SELECT set_config('statement_timeout', %(ms)s, true), "
        "set_config('lock_timeout', %(ms)s, true)", {"ms": millis})
# A pooled connection used less than this long ago is trusted without a ping. SQLAlchemy's
# pool_pre_ping pings on every checkout: a round trip per transaction, a fifth of a push's
# time under load. Connections left idle (through a database restart, a firewall's idle
# cut) are still pinged; a connection that dies while busy is caught as a disconnect,
# which invalidates the whole pool.
PING_AFTER_IDLE_SECONDS = 1.0


def _note_return(_dbapi_connection: object, record: Any) -> None:
    record.info["returned_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: object) -> None:
    returned = record.info.get("returned_at")
    if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()  # the ping opened a transaction; a reader sets autocommit
    except Exception:
        # The pool drops this connection and checks out (or opens) another.
        raise DisconnectionError("pooled connection is gone") from None


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads only, in autocommit: no BEGIN and ROLLBACK around them.

    Each statement sees what is committed when it runs; when several reads must agree
    with each other, or anything is written, use `transaction` instead."""
    with factory() as session:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Apply every migration (all branches) to the database at `url`."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(alembic_config(url), "heads")
