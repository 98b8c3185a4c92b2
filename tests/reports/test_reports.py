"""The programme report: figures from aggregate SQL, Europe/London months, CSV."""

import csv
import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

UTC = timezone.utc


@pytest.fixture
def count_queries(engine):
    counted = []

    def _before(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    yield counted
    event.remove(engine, "before_cursor_execute", _before)


def test_programme_report(coordinator, viewer, partner, seeded_topics, create_trust, create_booking,
                          create_speaker, db, count_queries):
    from api.bookings.models import BookingSpeaker

    leeds = create_trust(region="north_east_and_yorkshire", trust_type="acute")
    create_trust(region="north_east_and_yorkshire", trust_type="mental_health")
    barts = create_trust(region="london", trust_type="acute")
    create_trust(region="london", trust_type="acute", archived_at=datetime(2024, 1, 1, tzinfo=UTC))
    a = create_booking(trust=leeds, starts_at=datetime(2025, 3, 5, 10, tzinfo=UTC))
    b = create_booking(trust=barts, starts_at=datetime(2025, 4, 9, 9, tzinfo=UTC))
    create_booking(trust=barts, status="cancelled", starts_at=datetime(2025, 4, 20, 9, tzinfo=UTC))
    speaker_id = create_speaker(name="Dr Helen Marsh").id
    for booking in (a, b):
        db().add(BookingSpeaker(booking_id=booking.id, speaker_id=speaker_id, starts_at=booking.starts_at,
                                ends_at=booking.starts_at.replace(hour=booking.starts_at.hour + 3)))
    db().commit()
    coordinator.put(f"/api/v1/bookings/{a.id}/outcome", json={"themes": ["data", "prioritisation"],
                                                             "confidence_before": 2, "confidence_after": 4})
    coordinator.put(f"/api/v1/bookings/{b.id}/outcome", json={"themes": ["data"], "confidence_before": 3,
                                                             "confidence_after": 3})
    assert viewer.get("/api/v1/reports/programme").status_code == 200  # builds the months' roll-ups
    count_queries.clear()
    r = viewer.get("/api/v1/reports/programme")
    assert r.status_code == 200, r.json
    queries = len(count_queries)
    report = r.json
    assert report["bookings_by_status"] == {"requested": 0, "provisional": 0, "confirmed": 0, "delivered": 2,
                                            "cancelled": 1}
    assert (report["trusts_engaged"], report["trusts_total"], report["coverage"]) == (2, 3, 0.6667)
    assert report["by_region"]["london"] == {"trusts_engaged": 1, "trusts_total": 1, "coverage": 1.0}
    assert report["by_region"]["north_east_and_yorkshire"]["coverage"] == 0.5
    assert report["by_region"]["south_west"] == {"trusts_engaged": 0, "trusts_total": 0, "coverage": None}
    assert report["by_trust_type"]["acute"] == {"trusts_engaged": 2, "trusts_total": 2, "coverage": 1.0}
    assert report["by_month"] == [{"month": "2025-03", "sessions": 1}, {"month": "2025-04", "sessions": 1}]
    assert [(t["slug"], t["count"]) for t in report["themes"]] == [("data", 2), ("prioritisation", 1)]
    assert report["confidence"] == {"mean_before": 2.5, "mean_after": 3.5, "mean_change": 1.0, "responses": 2}
    assert report["sessions_by_speaker"] == [{"speaker_id": speaker_id, "name": "Dr Helen Marsh", "sessions": 2}]
    # 1 token lookup, the months holding bookings, their roll-up state, the roll-ups, trusts, topic and speaker
    # names, the masterclasses section (one statement), the attendee feedback figures (one aggregate): however
    # many bookings and months
    assert queries <= 9, count_queries

    april = coordinator.get("/api/v1/reports/programme?from=2025-04-01&to=2025-04-30").json
    assert april["bookings_by_status"]["delivered"] == 1 and april["trusts_engaged"] == 1
    assert april["by_month"] == [{"month": "2025-04", "sessions": 1}]
    assert coordinator.get("/api/v1/reports/programme?from=2025-05-01&to=2025-04-01").status_code == 422
    assert partner.get("/api/v1/reports/programme").status_code == 403

    text = coordinator.get("/api/v1/reports/programme", headers={"Accept": "text/csv"})
    assert text.status_code == 200 and text.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text.get_data(as_text=True))))
    assert rows[0] == ["section", "key", "metric", "value"]
    assert ["by_month", "2025-04", "sessions", "1"] in rows
    assert ["bookings_by_status", "cancelled", "bookings", "1"] in rows
    assert ["confidence", "all", "mean_change", "1.0"] in rows


# UTC instants around the Europe/London month boundaries (BST starts last Sunday of March, ends last Sunday
# of October): the hour before midnight London time is the previous UTC day in summer.
BOUNDARY_TIMES = [
    datetime(2025, 3, 31, 22, 59, tzinfo=UTC), datetime(2025, 3, 31, 23, 0, tzinfo=UTC),  # 23:59 / 00:00 BST
    datetime(2025, 2, 28, 23, 30, tzinfo=UTC),  # GMT: still February
    datetime(2025, 6, 30, 23, 15, tzinfo=UTC),  # BST: 1 July
    datetime(2025, 9, 30, 23, 0, tzinfo=UTC),  # BST: 1 October
    datetime(2025, 10, 31, 23, 30, tzinfo=UTC),  # GMT again: October
    datetime(2024, 10, 31, 23, 30, tzinfo=UTC), datetime(2026, 3, 31, 23, 0, tzinfo=UTC),
    datetime(2020, 3, 31, 23, 0, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
]


def test_months_are_europe_london_months_in_sql(db, create_booking, create_trust):
    from sqlalchemy import select

    from api.bookings.models import Booking
    from api.reports.service import london_month

    for when in BOUNDARY_TIMES:
        create_booking(trust=create_trust(), starts_at=when)
    session = db()
    rows = session.execute(select(Booking.starts_at, london_month(session, Booking.starts_at))).all()
    assert len(rows) == len(BOUNDARY_TIMES)
    for starts_at, month in rows:
        assert month == starts_at.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m"), starts_at
