"""Booking fixtures: a trust, speakers with availability, and a helper that books through the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from types import SimpleNamespace

import pytest

FUTURE = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=60)


def at(day: str, hhmm: str, offset: str = "+00:00") -> str:
    """An RFC 3339 time, e.g. at("2026-03-27", "10:00") -> 2026-03-27T10:00:00+00:00."""
    return f"{day}T{hhmm}:00{offset}"


def future_monday(weeks: int = 8, hour: int = 10) -> datetime:
    """A Monday some weeks ahead, at a UTC hour (keeps partner bookings in the future)."""
    day = (FUTURE + timedelta(weeks=weeks - 8)).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(obj, *fields: str) -> SimpleNamespace:
    """The fields a test needs, read now: ORM objects are detached once a request ends."""
    return SimpleNamespace(**{f: getattr(obj, f) for f in ("id", *fields)})


@pytest.fixture
def make_trust(create_trust):
    def _make(**kw):
        return plain(create_trust(**kw), "name", "region", "timezone")

    return _make


@pytest.fixture
def trust(make_trust):
    return make_trust(name="Leeds Teaching Hospitals NHS Trust", region="north_east_and_yorkshire")


@pytest.fixture
def make_contact(create_contact):
    def _make(trust=None, **kw):
        return plain(create_contact(trust, **kw) if trust is None else
                     create_contact(_Ref(trust.id), **kw), "trust_id", "name")

    return _make


class _Ref:
    def __init__(self, id_):
        self.id = id_


@pytest.fixture
def book(coordinator):
    """Create a booking as the coordinator (or another client) and return the response."""

    def _book(trust, starts_at, client=None, **fields):
        body = {"trust_id": trust.id if hasattr(trust, "id") else trust, "starts_at": starts_at, **fields}
        return (client or coordinator).post("/api/v1/bookings", json=body)

    return _book


@pytest.fixture
def speaker_with(create_speaker, coordinator):
    """A speaker in a zone with weekly windows [(weekday, "HH:MM", "HH:MM")] (none: always available)."""

    def _make(tz: str = "Europe/London", weekly=(), **kw):
        speaker = plain(create_speaker(timezone=tz, **kw), "name", "timezone")
        if weekly:
            r = coordinator.put(f"/api/v1/speakers/{speaker.id}/availability", json={
                "weekly": [{"weekday": d, "start_time": s, "end_time": e} for d, s, e in weekly]})
            assert r.status_code == 200, r.json
        return speaker

    return _make


def statements_of(engine, call):
    """Run ``call()`` and return its answer and the SQL statements it sent, but transaction control
    (BEGIN, SAVEPOINT, RELEASE, ROLLBACK, COMMIT: the tests' own outer transaction shapes those)."""
    from sqlalchemy import event

    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return response, [s for s in statements if s.lstrip().split(None, 1)[0].upper() not in
                      ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")]
