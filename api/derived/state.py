"""The data state: one counter that moves with every committed change a feed or a booking list shows.

A write bumps ``data_state.version`` (and ``changed_at``) in its own transaction, just before it
commits: every ORM flush that inserts, deletes or changes a row of a watched model, every ORM bulk ``insert``/``update``/``delete`` statement on a watched table, and
every owner bumped by ``api.derived`` mark the session; the mark is turned into one upsert before the
commit. What is watched is declared in the map (``api.derived_map``), not here. The map orders this
counter last, so its row lock is taken after every other lock a write takes and is held only until the
commit: writers do not deadlock on it.

Over-invalidating is fine (any booking write moves every feed's ETag); missing a change is not.
Readers: ``read(session)`` (one primary-key lookup) or ``version_column()`` to add it to a query.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.db import Base, UTCDateTime
from api.derived import Counter

STATE_ID = 1
_MARK = "data_state_changed"


class DataState(Base):
    """A counter bumped in the same transaction as any write that changes what a feed or a booking
    list shows (bookings, their speakers and topics, trusts, speakers, topics, partners).

    One row (``id`` = 1). Feeds name ``version`` in their ETag, so a 304 is one indexed lookup;
    booking lists cache their ``X-Pagination`` total per version.
    """

    __tablename__ = "data_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def mark_changed(session: Session) -> None:
    session.info[_MARK] = True


def counter(watched: tuple[type, ...], tables: frozenset[str]) -> Counter:
    """The data state as a counter of the map: ``watched`` models and ``tables`` (bulk statements) move it."""

    def changed(obj) -> bool:
        return any(attr.history.has_changes() for attr in inspect(obj).attrs)

    def after_flush(session: Session) -> None:
        if session.info.get(_MARK):
            return
        if any(isinstance(obj, watched) for obj in (*session.new, *session.deleted)) or any(
                isinstance(obj, watched) and changed(obj) for obj in session.dirty):
            mark_changed(session)

    def bulk(orm_execute_state) -> None:
        table = getattr(orm_execute_state.statement, "table", None)
        if getattr(table, "name", None) in tables:
            mark_changed(orm_execute_state.session)

    def before_commit(session: Session) -> None:
        if not session.info.get(_MARK) and not any(isinstance(o, watched) for o in (*session.new, *session.deleted,
                                                                                    *session.dirty)):
            return
        session.flush()  # the flush inside commit comes after this hook: see its changes now
        if session.info.pop(_MARK, False):
            _bump(session)

    return Counter(
        name="data_state", after_flush=after_flush, bulk=bulk, before_commit=before_commit,
        after_rollback=lambda session: session.info.pop(_MARK, None),
        owner_bumped=lambda session, _owner: mark_changed(session),
        description="Feed ETags and the booking list's cached counts: moves with any change they could show.")


def _bump(session: Session) -> None:
    table = DataState.__table__
    connection = session.connection()
    now = datetime.now(UTC)
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(id=STATE_ID, version=1, changed_at=now)
    connection.execute(stmt.on_conflict_do_update(index_elements=[table.c.id],
                                                  set_={"version": table.c.version + 1, "changed_at": now}))


def version_column():
    """``(SELECT version FROM data_state WHERE id = 1)`` as a scalar subquery (NULL before any write)."""
    return select(DataState.version).where(DataState.id == STATE_ID).scalar_subquery()


def read(session: Session) -> tuple[int, datetime | None]:
    row = session.execute(select(DataState.version, DataState.changed_at).where(DataState.id == STATE_ID)).first()
    return (row.version, row.changed_at) if row else (0, None)
