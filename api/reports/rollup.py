"""The monthly report roll-ups: session hooks that mark months changed, and the per-month rebuild.

Writing. Every ORM flush that inserts, deletes or changes what the programme report counts marks the
Europe/London months it touched (a counter of the map, ``api.derived_map``): a booking's status, start
(its old and its new month) or trust; a booking's speakers; an outcome's scores or themes (its booking's month). ORM bulk ``insert``/``update``/
``delete`` statements on those tables are caught too; one that cannot be attributed to months (a bulk
delete, an update of a counted column) marks every month. In ``before_commit`` the marks become the keys of
rows of ``derived_counters`` (``api.derived.counters``) that the engine moves with the other counters' in
one upsert (``changed = changed + 1``), in key order so concurrent writers lock the rows in the same order:
the months before the data state's row.
A raw SQL write on the connection (``session.connection().execute(...)``) is not seen: call
``mark_changed(session, months)`` after one that changes what the report counts.

Reading. ``current(session, months)`` rebuilds the months that are stale (no month row in
``derived_counters``, or ``built != changed``) from the raw tables and stores their rows in a SAVEPOINT, best effort: when the
store fails (a concurrent rebuild of the same month, SQLite refusing to turn a read into a write) the
figures just computed still answer this request. Renames need no rebuild: rows hold ids, and names are
joined when the report is read.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from api.bookings.models import Booking, BookingSpeaker
from api import derived
from api.outcomes.models import Outcome, outcome_themes
from api.derived.counters import CounterRow
from api.derived.counters import bump as bump_counters
from api.reports.models import ReportRollup

log = logging.getLogger("boardroom.reports")

LONDON = ZoneInfo("Europe/London")
ALL = "*"  # a mark meaning every month
_MARKS = "report_months_changed"  # session.info: months ("YYYY-MM"), or ALL among them
_LOOKUPS = "report_months_lookup"  # session.info: ids of bookings, outcomes, slots whose month is read at commit
_COMMITTING = "report_months_committing"  # before_commit ran: a later flush stores its marks at once
ANALYZE_AFTER_MONTHS = 6  # a rebuild storing this many months refreshes the planner's statistics (PostgreSQL)
_IS_MONTH = CounterRow.key.like("____-__")  # the report months' rows of ``derived_counters``
_LOOKUP_LIMIT = 1000  # more ids than this in one bulk statement: mark every month instead of looking them up

# Columns whose change changes what the report counts, per table; changing anything else is ignored.
_COUNTED = {
    "bookings": frozenset({"status", "starts_at", "trust_id"}),
    "booking_speakers": frozenset({"booking_id", "speaker_id"}),
    "outcomes": frozenset({"booking_id", "confidence_before", "confidence_after"}),
    "outcome_themes": frozenset({"outcome_id", "topic_id"}),
}
_BOOKING_ATTRS = ("status", "starts_at", "trust_id", "trust", "speakers")
_SLOT_ATTRS = ("booking_id", "speaker_id", "booking", "speaker")
_OUTCOME_ATTRS = ("booking_id", "confidence_before", "confidence_after", "themes")


# --- months -------------------------------------------------------------------------------------------

def month_of(when: datetime) -> str:
    """The Europe/London month ("YYYY-MM") of an instant (a naive one is UTC, as stored)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(LONDON).strftime("%Y-%m")


def day_start(day: date) -> datetime:
    """Midnight starting a Europe/London day."""
    return datetime.combine(day, time(0), LONDON)


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def months_between(first: str, last: str) -> list[str]:
    months, day, end = [], first_day(first), first_day(last)
    while day <= end:
        months.append(day.strftime("%Y-%m"))
        day = next_month(day)
    return months


def month_range(month: str) -> tuple[datetime, datetime]:
    """The month as a half-open range of instants."""
    day = first_day(month)
    return day_start(day), day_start(next_month(day))


# --- marking months changed -----------------------------------------------------------------------------

def mark_changed(session: Session, months) -> None:
    """Mark months ("YYYY-MM", or ``ALL``) changed by this transaction."""
    session.info.setdefault(_MARKS, set()).update(months)


def _look_up(session: Session, kind: str, ids) -> None:
    """Mark the months of rows read at commit: bookings by id, or the bookings of outcomes or slots (a booking
    loaded in the session gives its month at once)."""
    ids = {i for i in ids if i is not None}
    if kind == "booking":
        for booking_id in list(ids):
            booking = session.identity_map.get(Session.identity_key(Booking, booking_id))
            starts_at = None if booking is None else booking.__dict__.get("starts_at")
            if starts_at is not None:  # flushed: the stored start (a moved booking marks its old month itself)
                mark_changed(session, [month_of(starts_at)])
                ids.discard(booking_id)
    if not ids:
        return
    wanted = session.info.setdefault(_LOOKUPS, {"booking": set(), "outcome": set(), "slot": set()})
    wanted[kind] |= ids
    if sum(len(v) for v in wanted.values()) > _LOOKUP_LIMIT:
        session.info.pop(_LOOKUPS)
        mark_changed(session, [ALL])


def _values(state, key: str) -> list:
    """The attribute's values before and after this flush, without loading it (empty when not loaded)."""
    history = state.attrs[key].history
    return [v for v in (*history.deleted, *history.unchanged, *history.added) if v is not None]


def _id(state) -> str | None:
    return state.identity[0] if state.identity else state.dict.get("id")


def _changed(state, keys) -> bool:
    return any(state.attrs[key].history.has_changes() for key in keys)


def _mark_booking(session: Session, state, how: str) -> None:
    if how == "dirty" and not _changed(state, _BOOKING_ATTRS):
        return
    starts = state.attrs.starts_at.history
    values = _values(state, "starts_at")
    if how == "dirty" and starts.added and not starts.deleted:
        mark_changed(session, [ALL])  # a new start set without the old one loaded: its old month is unknown
    elif values:
        mark_changed(session, [month_of(v) for v in values])
    elif how == "deleted":
        mark_changed(session, [ALL])  # gone, and its start was never loaded
    else:
        _look_up(session, "booking", [_id(state)])


def _mark_child(session: Session, state, how: str, *, kind: str, keys: tuple[str, ...], parent: str | None):
    """Mark the month of a slot's or an outcome's booking (read at commit)."""
    if how == "dirty" and not _changed(state, keys):
        return
    ids = _values(state, "booking_id")
    if parent:
        ids += [_id(inspect(b)) for b in _values(state, parent)]
    if ids:
        _look_up(session, "booking", ids)
    elif how == "deleted":
        mark_changed(session, [ALL])  # gone, and its booking was never loaded
    else:
        _look_up(session, kind, [_id(state)])


def _after_flush(session: Session) -> None:
    for how, objects in (("new", session.new), ("deleted", session.deleted), ("dirty", session.dirty)):
        for obj in objects:
            if isinstance(obj, Booking):
                _mark_booking(session, inspect(obj), how)
            elif isinstance(obj, BookingSpeaker):
                _mark_child(session, inspect(obj), how, kind="slot", keys=_SLOT_ATTRS, parent="booking")
            elif isinstance(obj, Outcome):
                _mark_child(session, inspect(obj), how, kind="outcome", keys=_OUTCOME_ATTRS, parent=None)
    if session.info.get(_COMMITTING):
        bump_counters(session, _take_marks(session))  # a flush after before_commit (another hook's): still ours


def _set_columns(orm_execute_state) -> set[str] | None:
    """The columns an UPDATE sets, or None when that cannot be told."""
    values = getattr(orm_execute_state.statement, "_values", None)  # no public accessor: None means "unknown"
    if values:
        return {getattr(k, "key", k) for k in values}
    params = orm_execute_state.parameters  # an ORM bulk update by primary key: a list of dicts
    if isinstance(params, list) and params and all(isinstance(p, dict) for p in params):
        return {k for p in params for k in p} - {"id"}
    return None


def _bulk_dml(orm_execute_state) -> None:
    table = getattr(getattr(orm_execute_state.statement, "table", None), "name", None)
    if table not in _COUNTED:
        return
    session = orm_execute_state.session
    if orm_execute_state.is_update:
        columns = _set_columns(orm_execute_state)
        if columns is not None and not columns & _COUNTED[table]:
            return  # e.g. stored texts, versions, times: nothing the report counts
    elif orm_execute_state.is_insert:
        params = orm_execute_state.parameters
        rows = params if isinstance(params, list) else [params] if params else []
        if rows and _mark_inserted(session, table, rows):
            return
    log.info("report roll-ups: a bulk statement on %s marks every month changed", table)
    mark_changed(session, [ALL])


def _mark_inserted(session: Session, table: str, rows: list[dict]) -> bool:
    """Mark the months of inserted rows; False when they cannot be told from the parameters."""
    if table == "bookings":
        starts = [row.get("starts_at") for row in rows]
        if not all(isinstance(s, datetime) for s in starts):
            return False
        mark_changed(session, {month_of(s) for s in starts})
        return True
    column, kind = ("outcome_id", "outcome") if table == "outcome_themes" else ("booking_id", "booking")
    ids = [row.get(column) for row in rows]
    if not all(isinstance(i, str) for i in ids):
        return False
    _look_up(session, kind, ids)
    return True


def _resolve(session: Session) -> set[str]:
    """This transaction's marked months, with the looked-up ones and ``ALL`` made into months."""
    months = set(session.info.get(_MARKS, ()))
    wanted = session.info.pop(_LOOKUPS, None)
    if wanted and ALL not in months:
        for kind, key, booking_id in (("booking", Booking.id, None), ("outcome", Outcome.id, Outcome.booking_id),
                                      ("slot", BookingSpeaker.id, BookingSpeaker.booking_id)):
            query = select(Booking.starts_at)
            if booking_id is not None:
                query = query.join(key.class_, booking_id == Booking.id)
            for chunk in _chunks(sorted(wanted[kind])):
                # A request without a time (starts_at NULL) is in no month.
                months.update(month_of(s) for s in session.scalars(query.where(key.in_(chunk))) if s is not None)
    if ALL in months:
        # Months without a row are stale anyway: bumping every existing row covers every month.
        months.discard(ALL)
        months.update(session.scalars(select(CounterRow.key).where(_IS_MONTH)))
    return months


def _chunks(ids: list[str], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _take_marks(session: Session) -> set[str]:
    """This transaction's months to move, forgotten once taken."""
    if not (session.info.get(_MARKS) or session.info.get(_LOOKUPS)):
        return set()
    months = _resolve(session)
    session.info.pop(_MARKS, None)
    return months


def _bump(session: Session) -> set[str]:
    if session.new or session.dirty or session.deleted:
        session.flush()  # the flush inside commit comes after this hook: see its changes now
    session.info[_COMMITTING] = True
    return _take_marks(session)  # the engine moves them with the other counters' rows, in one statement


def _committed(session: Session) -> None:
    session.info.pop(_COMMITTING, None)


def _clear(session: Session) -> None:
    for key in (_MARKS, _LOOKUPS, _COMMITTING):  # the whole transaction is gone
        session.info.pop(key, None)


def counter() -> derived.Counter:
    """The report months as a counter of the map (``api.derived_map``), ordered before the data state."""
    return derived.Counter(
        name="report_months", after_flush=_after_flush, bulk=_bulk_dml, before_commit=_bump,
        after_commit=_committed, after_rollback=_clear,
        description="Europe/London months whose roll-ups must be rebuilt: " + ", ".join(
            f"{table}.{{{', '.join(sorted(columns))}}}" for table, columns in _COUNTED.items()))


def pending(session: Session) -> set[str]:
    """Months this session changed and has not committed yet (``ALL`` among them: any month)."""
    months = set(session.info.get(_MARKS, ()))
    if session.info.get(_LOOKUPS):
        months.add(ALL)
    return months


# --- figures of a range, and the rebuild --------------------------------------------------------------

@dataclass
class Figures:
    """What the report counts over some bookings: all of them by status; delivered ones by trust, speaker
    and theme; confidence sums over delivered sessions' outcomes with both scores."""

    status: Counter = field(default_factory=Counter)
    trusts: Counter = field(default_factory=Counter)
    speakers: Counter = field(default_factory=Counter)
    themes: Counter = field(default_factory=Counter)
    responses: int = 0
    sum_before: int = 0
    sum_after: int = 0

    def rows(self, month: str) -> list[dict]:
        rows = [{"month": month, "dimension": dimension, "key": key, "count": n, "sum_before": 0, "sum_after": 0}
                for dimension, counts in (("status", self.status), ("trust", self.trusts),
                                          ("speaker", self.speakers), ("theme", self.themes))
                for key, n in counts.items()]
        if self.responses:
            rows.append({"month": month, "dimension": "confidence", "key": "", "count": self.responses,
                         "sum_before": self.sum_before, "sum_after": self.sum_after})
        return rows


def figures(session: Session, start: datetime, end: datetime) -> Figures:
    """The figures of bookings starting in [start, end), from the raw tables."""
    in_range = (Booking.starts_at >= start, Booking.starts_at < end)
    # The start range is what narrows the rows. Written as a bare `status = 'delivered'`, the status test
    # draws SQLite's planner (which has no statistics) to ix_bookings_status: every delivered booking ever.
    delivered = and_(*in_range, func.coalesce(Booking.status, "") == "delivered")
    out = Figures()
    out.status.update(dict(session.execute(
        select(Booking.status, func.count()).where(*in_range).group_by(Booking.status)).all()))
    out.trusts.update(dict(session.execute(
        select(Booking.trust_id, func.count()).where(delivered, Booking.trust_id.is_not(None))  # a class for many
        .group_by(Booking.trust_id)).all()))
    out.speakers.update(dict(session.execute(
        select(BookingSpeaker.speaker_id, func.count()).join(Booking, Booking.id == BookingSpeaker.booking_id)
        .where(delivered).group_by(BookingSpeaker.speaker_id)).all()))
    out.themes.update(dict(session.execute(
        select(outcome_themes.c.topic_id, func.count())
        .join(Outcome, Outcome.id == outcome_themes.c.outcome_id).join(Booking, Booking.id == Outcome.booking_id)
        .where(delivered).group_by(outcome_themes.c.topic_id)).all()))
    responses, before, after = session.execute(
        select(func.count(), func.sum(Outcome.confidence_before), func.sum(Outcome.confidence_after))
        .join(Booking, Booking.id == Outcome.booking_id)
        .where(delivered, Outcome.confidence_before.is_not(None), Outcome.confidence_after.is_not(None))).one()
    out.responses, out.sum_before, out.sum_after = responses, int(before or 0), int(after or 0)
    return out


def current(session: Session, months: list[str]) -> dict[str, Figures]:
    """Make the months' roll-ups current where they are not; return the figures of the months whose rows
    could not be stored (read them from here, the other months from ``report_rollup``)."""
    if not months:
        return {}
    session.flush()
    mine = pending(session)  # changed by this uncommitted transaction: computed here, never stored
    if ALL in mine:
        mine = set(months)
    built = set(session.scalars(select(CounterRow.key).where(CounterRow.key.between(months[0], months[-1]),
                                                             CounterRow.changed == CounterRow.built)))
    live, storing, stored = {}, True, 0
    for month in months:  # in order: concurrent rebuilds lock month rows in the same order
        if month in built and month not in mine:
            continue
        changed = session.scalar(select(CounterRow.changed).where(CounterRow.key == month))
        found = figures(session, *month_range(month))
        if not storing or month in mine:
            live[month] = found
            continue
        try:
            _store(session, month, changed, found)
            stored += 1
        except (IntegrityError, OperationalError) as exc:
            log.info("report roll-up for %s not stored (%s); served from the figures just computed",
                     month, exc.__class__.__name__)
            live[month] = found
            # A concurrent rebuild (IntegrityError) took this month only; a busy or outdated SQLite
            # snapshot, a lock timeout or a deadlock (OperationalError) would meet the next month too.
            storing = isinstance(exc, IntegrityError)
    if stored >= ANALYZE_AFTER_MONTHS and session.get_bind().dialect.name == "postgresql":
        # The table grew by whole months at once (a first report, after a migration or an import): until
        # autovacuum analyses it, PostgreSQL plans the roll-up aggregate for a handful of rows (a sort
        # where a hash is 2-3x faster at 100,000 bookings). Refresh its statistics now; cheap at this size.
        session.execute(text("ANALYZE report_rollup"))
    return live


def _store(session: Session, month: str, changed: int | None, found: Figures) -> None:
    """Store a month's rows in a SAVEPOINT, built from ``changed`` (the count read before aggregating)."""
    months, rollup = CounterRow.__table__, ReportRollup.__table__
    with session.begin_nested():
        if changed is None:
            session.execute(months.insert().values(key=month, changed=0, built=0))
        else:
            session.execute(update(months).where(months.c.key == month).values(built=changed))
        session.execute(delete(rollup).where(rollup.c.month == month))
        if rows := found.rows(month):
            session.execute(rollup.insert(), rows)
