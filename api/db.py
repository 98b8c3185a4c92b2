"""Declarative base, naming convention, shared column types and the engine factory."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zone support, so values are normalised to UTC on the way in
    and tagged as UTC on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Id:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class Versioned(Id):
    """Id, creation and update times, and the optimistic-concurrency version behind ETags."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)
    version: Mapped[int] = mapped_column(
        Integer, default=1, comment="Bumped on every change; the UPDATE is conditional on it (ETag/If-Match)."
    )

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}

    def touch(self) -> None:
        """Mark the row changed when only its related rows changed (speakers, attendees)."""
        self.updated_at = utcnow()


def make_engine(url: str, **kwargs) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys and writer transactions that start immediately."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                  "factory": WriterQueueConnection}, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_after_idle(engine)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_after_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle for a while.

    ``pool_pre_ping`` costs a round trip on every checkout, i.e. every request. A connection used
    seconds ago is almost surely alive; one idle longer (a quiet night, a database restart in a
    maintenance window) is pinged, and a dead one is replaced before the request uses it
    (``DisconnectionError`` in ``checkout`` makes the pool retry with a new connection). A
    connection lost mid-request answers 503 with Retry-After (``api._handle_unavailable``), and
    SQLAlchemy then drops every pooled connection of that generation.
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 - any failure means this connection is gone
            raise DisconnectionError() from exc


def _starts_on(session, dialect: str) -> bool:
    """Whether this request's session is about to open its own connection on ``dialect``: bound to the engine and
    not yet in a transaction (the tests bind it to a connection already inside their rolled-back outer one)."""
    bind = session.get_bind()
    return isinstance(bind, Engine) and bind.dialect.name == dialect and not session.in_transaction()


def autocommit_reads(session) -> None:
    """PostgreSQL: run this request's statements outside a transaction block (no BEGIN and ROLLBACK
    round trips). For public reads whose statements are each consistent on their own; under READ
    COMMITTED every statement sees a fresh snapshot anyway. SQLite is left as it is, and so is a
    session bound to a connection already in a transaction (the tests' rolled-back outer transaction)."""
    if _starts_on(session, "postgresql"):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def read_only_transaction(session) -> bool:
    """PostgreSQL: run this read's transaction as ``READ ONLY`` (psycopg sends ``BEGIN READ ONLY``: no extra round
    trip), so ``end_read`` can end it with COMMIT. A GET that tried to write fails instead of writing.
    Returns whether it applied (not on SQLite, nor to a session already in a transaction, such as the tests'
    rolled-back outer one)."""
    if _starts_on(session, "postgresql"):
        session.connection(execution_options={"postgresql_readonly": True})
        session.info["read_only"] = True
        return True
    return False


def end_read(session) -> None:
    """End a read that stores nothing. A ``READ ONLY`` transaction (``read_only_transaction``) ends with COMMIT,
    which writes nothing either: psycopg forgets every prepared statement of its connection on a ROLLBACK (and
    sends ``DEALLOCATE ALL``), so reads ending in ROLLBACK had every statement, the token lookup included,
    parsed and planned afresh on each request. Objects changed in memory are dropped, never flushed. Anything
    else rolls back."""
    if session.info.get("read_only") and session.in_transaction():
        session.expunge_all()
        session.commit()
    else:
        session.rollback()


def autocommit_until_write(session) -> None:
    """SQLite: a write request's statements before its write transaction (the token lookup) run in
    autocommit, without a BEGIN of their own; ``BEGIN IMMEDIATE`` then starts the write. Each of them is
    one self-consistent statement. PostgreSQL needs nothing: its write transaction starts with the lookup."""
    if _starts_on(session, "sqlite"):
        session.connection(execution_options={"sqlite_autocommit": True})


class WriterQueueConnection(sqlite3.Connection):
    """A pysqlite connection whose write transactions queue for the database on a file lock.

    SQLite lets one writer in at a time; the others sleep in its busy handler, polling with growing sleeps,
    so under concurrent writes a waiting request can sleep long after the lock is free (p99 of seconds
    against a p50 of milliseconds). A writer here first takes an exclusive ``flock`` on ``<database>.writers``
    (blocking: the kernel wakes a waiter as soon as the holder lets go, across processes), then BEGIN
    IMMEDIATE; the lock goes with the transaction's end (commit, rollback, close). Readers never queue.
    """

    lock_path: str | None = None
    _lock_fd: int | None = None
    _holding = False

    def enter_writer_queue(self) -> None:
        if self.lock_path is None or self._holding:
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._holding = True

    def leave_writer_queue(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_writer_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_writer_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_writer_queue()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; take it over
    # (the two hooks SQLAlchemy documents), and begin write transactions with BEGIN IMMEDIATE
    # so concurrent writers serialise instead of failing with "database is locked" mid-way.
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 8 MiB of page cache per connection (the default is 2 MiB): a speaker's feed or a list page reads
        # rows spread over the whole bookings table; the default thrashes once the file is large.
        cursor.execute("PRAGMA cache_size=-8192")
        if engine.url.database and engine.url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if isinstance(dbapi_connection, WriterQueueConnection):
                dbapi_connection.lock_path = os.path.abspath(engine.url.database) + ".writers"
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get("sqlite_autocommit"):
            return  # pysqlite runs each statement in autocommit (isolation_level is None)
        if not options.get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN")
            return
        # Writers queue twice before BEGIN IMMEDIATE. First on a per-process lock that gevent makes
        # cooperative: SQLite's busy wait and the file lock below block the whole process, so under gevent
        # workers a request waiting for a lock held by another request of the same process would stall both.
        # Then, one writer per process, on the cross-process file lock (``WriterQueueConnection``), which
        # wakes the next writer as soon as the holder lets go instead of SQLite's growing sleeps.
        dbapi_connection = conn.connection.dbapi_connection
        queued = False
        if writer.acquire(timeout=30):  # after 30 s, fall back to SQLite's own wait (and no file queue)
            conn.info["sqlite_writer"] = writer
            queued = isinstance(dbapi_connection, WriterQueueConnection)
            if queued:
                dbapi_connection.enter_writer_queue()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if queued:
                dbapi_connection.leave_writer_queue()
            _release_writer(conn.info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn):
        _release_writer(conn.info)

    # A connection handed back to the pool, closed or invalidated mid-transaction gives the lock back too.
    @event.listens_for(engine, "reset")
    def _on_reset(dbapi_connection, connection_record, reset_state):
        _release_writer(connection_record.info)

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection, connection_record):
        _release_writer(connection_record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection, connection_record, exception):
        _release_writer(connection_record.info)


def _release_writer(info: dict) -> None:
    writer = info.pop("sqlite_writer", None)
    if writer is not None:
        writer.release()
