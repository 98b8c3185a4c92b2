"""The data state: one counter that moves with every committed change a feed or a booking list shows.

A write bumps ``data_state.version`` (and ``changed_at``) in its own transaction, just before it
commits: every ORM flush that inserts, deletes or changes a booking (except its stored
``ical_vevent`` text, a cache), a speaker slot, a trust, a speaker, a topic or a partner, and every
ORM bulk ``insert``/``update``/``delete`` statement on their tables, marks the session; the mark is
turned into one upsert in ``before_commit``. Taking the row lock last (after every advisory lock a
write takes) keeps writers from deadlocking on it; it is held only until the commit.

Over-invalidating is fine (any booking write moves every feed's ETag); missing a change is not.
A raw SQL write on the connection (``session.connection().execute(...)``) is not seen: call
``mark_changed(session)`` after one that changes what feeds or lists show.

Readers: ``read(session)`` (one primary-key lookup) or ``version_column()`` to add it to a query.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

STATE_ID = 1
_MARK = "data_state_changed"
_IGNORED = frozenset({"ical_vevent", "api_doc", "api_doc_partner"})  # stored renderings: cache fills, not changes


def _watched() -> tuple[type, ...]:
    from api.accounts.models import Partner
    from api.bookings.models import Booking, BookingSpeaker
    from api.speakers.models import Speaker
    from api.topics.models import Topic
    from api.trusts.models import Trust

    return Booking, BookingSpeaker, Trust, Speaker, Topic, Partner


_WATCHED: tuple[type, ...] | None = None
_WATCHED_TABLES: frozenset[str] | None = None


def _types() -> tuple[type, ...]:
    global _WATCHED, _WATCHED_TABLES
    if _WATCHED is None:
        _WATCHED = _watched()
        _WATCHED_TABLES = frozenset({t.__tablename__ for t in _WATCHED} | {"booking_topics"})
    return _WATCHED


def mark_changed(session: Session) -> None:
    session.info[_MARK] = True


def _changed(obj) -> bool:
    state = inspect(obj)
    for attr in state.attrs:
        if attr.key not in _IGNORED and attr.history.has_changes():
            return True
    return False


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    if session.info.get(_MARK):
        return
    watched = _types()
    for obj in session.new:
        if isinstance(obj, watched):
            mark_changed(session)
            return
    for obj in session.deleted:
        if isinstance(obj, watched):
            mark_changed(session)
            return
    for obj in session.dirty:
        if isinstance(obj, watched) and _changed(obj):
            mark_changed(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _bulk_dml(orm_execute_state) -> None:
    if not (orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    _types()
    table = getattr(orm_execute_state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        mark_changed(orm_execute_state.session)


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit bumps (its mark survives the savepoint)
    if not session.info.get(_MARK) and not any(isinstance(o, _types()) for o in (*session.new, *session.deleted,
                                                                                  *session.dirty)):
        return
    session.flush()  # the flush inside commit comes after this hook: see its changes now
    if not session.info.pop(_MARK, False):
        return
    from api.calendar.models import DataState

    table = DataState.__table__
    connection = session.connection()
    now = datetime.now(UTC)
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(id=STATE_ID, version=1, changed_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.id],
                                      set_={"version": table.c.version + 1, "changed_at": now})
    connection.execute(stmt)


@event.listens_for(Session, "after_soft_rollback")
def _clear(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_MARK, None)  # the whole transaction is gone, and its changes with it


def version_column():
    """``(SELECT version FROM data_state WHERE id = 1)`` as a scalar subquery (NULL before any write)."""
    from api.calendar.models import DataState

    return select(DataState.version).where(DataState.id == STATE_ID).scalar_subquery()


def read(session: Session) -> tuple[int, datetime | None]:
    from api.calendar.models import DataState

    row = session.execute(select(DataState.version, DataState.changed_at).where(DataState.id == STATE_ID)).first()
    return (row.version, row.changed_at) if row else (0, None)
