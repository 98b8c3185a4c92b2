"""The data state: one counter that moves with every committed change a feed or a booking list shows.

A write moves the ``data_state`` row of ``derived_counters`` (``changed``, and ``changed_at``) in its own
transaction, just before it commits: every ORM flush that inserts, deletes or changes a row of a watched
model, every ORM bulk ``insert``/``update``/``delete`` statement on a watched table, and every owner bumped
by ``api.derived`` mark the session; the mark becomes this row's key among those the engine moves in one
upsert before the commit (``api.derived.counters``). What is watched is declared in the map
(``api.derived_map``), not here. Its key sorts after the report months', so its row lock is taken after
every other lock a write takes and is held only until the commit: writers do not deadlock on it.

Over-invalidating is fine (any booking write moves every feed's ETag); missing a change is not.
Readers: ``read(session)`` (one primary-key lookup), ``version_column()`` to add it to a query, or an
outer join of ``CounterRow`` on ``CounterRow.key == STATE_KEY``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from api.derived import Counter
from api.derived.counters import CounterRow

STATE_KEY = "data_state"
_MARK = "data_state_changed"


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

    def before_commit(session: Session) -> list[str]:
        if not session.info.get(_MARK) and not any(isinstance(o, watched) for o in (*session.new, *session.deleted,
                                                                                    *session.dirty)):
            return []
        session.flush()  # the flush inside commit comes after this hook: see its changes now
        return [STATE_KEY] if session.info.pop(_MARK, False) else []

    return Counter(
        name="data_state", after_flush=after_flush, bulk=bulk, before_commit=before_commit,
        after_rollback=lambda session: session.info.pop(_MARK, None),
        owner_bumped=lambda session, _owner: mark_changed(session),
        description="Feed ETags and the booking list's cached counts: moves with any change they could show.")


def version_column():
    """The data state's version as a scalar subquery (NULL before any write)."""
    return select(CounterRow.changed).where(CounterRow.key == STATE_KEY).scalar_subquery()


def read(session: Session) -> tuple[int, datetime | None]:
    row = session.execute(select(CounterRow.changed, CounterRow.changed_at).where(CounterRow.key == STATE_KEY)).first()
    return (row.changed, row.changed_at) if row else (0, None)
