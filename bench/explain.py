"""EXPLAIN (ANALYZE, BUFFERS) the hot statements on a seeded PostgreSQL benchmark database.

    .venv/bin/python bench/explain.py postgresql+psycopg://postgres@127.0.0.1:5432/bench_pg_100000

Prints markdown: one section per statement (the statements are built by the application's own code,
so they are the SQL the endpoints send), each with its plan. Run `bench/run.py` first to seed.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _sql(stmt, dialect, params: dict | None = None) -> str:
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}) if not params else None
    if compiled is not None:
        return str(compiled)
    # Statements with bindparam() placeholders (the feed): bind the values, then render them literally.
    return str(stmt.params(**params).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def statements(session) -> list[tuple[str, object, dict | None]]:
    from sqlalchemy import func, select

    from api.auth import Principal
    from api.bookings import service
    from api.bookings.models import Booking, BookingSpeaker
    from api.calendar import service as calendar
    from api.calendar import state as data_state

    coordinator = Principal(token_id="x", name="bench", role="coordinator")
    page = service.list_bookings(coordinator, {}, [*(getattr(Booking, c) for c in service._SCALARS),
                                                  data_state.version_column().label("_state")])
    count = select(func.count()).select_from(service.list_bookings(coordinator, {}, [Booking.id])
                                             .order_by(None).subquery())
    now = datetime.now(UTC)
    booking = session.execute(select(Booking.id, Booking.trust_id, Booking.starts_at, Booking.ends_at)
                              .where(Booking.status == "confirmed", Booking.starts_at > now)
                              .order_by(Booking.starts_at).limit(1)).one()
    speaker = session.scalar(select(BookingSpeaker.speaker_id).group_by(BookingSpeaker.speaker_id)
                             .order_by(func.count().desc()).limit(1))
    get = select(*(getattr(Booking, c) for c in service._SCALARS), Booking.version).where(Booking.id == booking.id)
    page_ids = list(session.scalars(service.list_bookings(coordinator, {}, [Booking.id]).limit(50)))
    trust_overlap = select(Booking.id, Booking.starts_at, Booking.ends_at).where(
        Booking.trust_id == booking.trust_id, Booking.live.is_(True),
        Booking.starts_at < booking.ends_at, Booking.ends_at > booking.starts_at,
        Booking.id != booking.id).order_by(Booking.starts_at, Booking.id)
    speaker_overlap = select(BookingSpeaker.booking_id, BookingSpeaker.speaker_id, BookingSpeaker.starts_at,
                             BookingSpeaker.ends_at).where(
        BookingSpeaker.speaker_id.in_([speaker]), BookingSpeaker.live.is_(True),
        BookingSpeaker.starts_at < booking.ends_at + timedelta(days=28), BookingSpeaker.ends_at > booking.starts_at,
        BookingSpeaker.booking_id != booking.id).order_by(BookingSpeaker.starts_at, BookingSpeaker.booking_id)
    view = SimpleNamespace(scope="speaker", speaker_id=speaker, trust_id=None, partner_id=None)
    feed = calendar._rows_statement("speaker", False)
    feed_params = calendar._scope_params(view, calendar.day_start(now), {"FEED_HISTORY_DAYS": 365,
                                                                         "FEED_CANCELLED_DAYS": 30})
    return [
        ("list page (default filters, ORDER BY starts_at, id LIMIT 50)", page.limit(50).offset(0), None),
        ("list count (default filters; cached per data-state version)", count, None),
        ("list related rows (UNION ALL: speakers, topics, attendees of the 50)",
         _related_statement(page_ids), None),
        ("get booking (columns + version by primary key)", get, None),
        ("get booking related rows (UNION ALL for one booking)", _related_statement([booking.id]), None),
        ("trust-overlap conflict check (conflicts.find_conflicts)", trust_overlap, None),
        ("speaker-overlap conflict check (conflicts.find_conflicts, a 4-week range)", speaker_overlap, None),
        ("speaker feed rows (calendar.service._rows_statement('speaker'))", feed, feed_params),
    ]


def _related_statement(ids):
    """The statement ``service._related`` sends, with these ids bound."""
    from api.bookings import service

    return service._related_statement(True).params(ids=ids)


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _short(text: str) -> str:
    """Long id lists (a page's 50 ids) shortened to their first id and a count, for reading."""
    def shorten(m):
        ids = re.findall(_UUID, m.group(0))
        return m.group(0) if len(ids) < 3 else f"{m.group(1)}{ids[0]}{m.group(2)} … {len(ids)} ids{m.group(3)}"

    text = re.sub(rf"(\(')(?:{_UUID}'(?:, ')?)+()(\))", lambda m: shorten(m).replace("( … ", "(… "), text)
    return re.sub(rf"(\{{){_UUID}(?:,{_UUID})+()(\}})", shorten, text)


def main() -> int:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from api.db import make_engine

    url = sys.argv[1]
    engine = make_engine(url)
    with Session(engine) as session:
        counts = session.execute(text("SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM booking_speakers)")).one()
        print(f"Database `{url.rsplit('/', 1)[1]}`: {counts[0]:,} bookings, {counts[1]:,} speaker slots; "
              f"{session.execute(text('SELECT version()')).scalar().split(' on ')[0]}.\n")
        for title, stmt, params in statements(session):
            sql = _sql(stmt, engine.dialect, params)
            session.execute(text(sql)).all()  # warm the cache, so BUFFERS shows the steady state
            plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)))
            sql, plan = _short(sql), _short(plan)
            whole = re.findall(r"(Seq Scan on \w+|Sort Method: \S+ \S+)", plan)
            print(f"## {title}\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```\n\nNodes of note: {', '.join(whole) or 'none'}\n")
        session.rollback()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
