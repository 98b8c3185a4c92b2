"""The feed's validators come from the data state, read with the token: a 304 is one statement, and every write moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from werkzeug.http import http_date

from tests.calendar.conftest import assert_well_formed, utc
from tests.calendar.test_feeds import (  # noqa: F401  (fixtures)
    assert_parsers_agree_with_bookings,
    clock,
    feed_path,
    people,
    subscribe,
)


def test_304_is_one_statement_on_the_token_and_the_data_state(coordinator, anon, people, create_booking, clock,  # noqa: F811
                                                              count_queries):
    for _ in range(3):
        create_booking(people["trust"])
    path = feed_path(subscribe(coordinator, scope="programme"))
    etag = anon.get(path).headers["ETag"]
    with count_queries() as statements:
        assert anon.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert len(statements) == 1 and "derived_counters" in statements[0] and "bookings" not in statements[0]


def test_bulk_writes_move_the_etag_and_stored_text_fills_do_not(coordinator, anon, people, create_booking,  # noqa: F811
                                                                clock, db):  # noqa: F811
    from api import derived
    from api.bookings.models import Booking

    booking = create_booking(people["trust"])
    path = feed_path(subscribe(coordinator, scope="programme"))
    first = anon.get(path).headers["ETag"]
    derived.changed(db(), "booking", select(Booking.id).where(Booking.id == booking.id), ["vevent"])
    db().commit()
    anon.get(path)  # a cache fill: the feed renders and stores the text
    db().commit()
    assert anon.get(path, headers={"If-None-Match": first}).status_code == 304
    db().execute(update(Booking).where(Booking.id == booking.id).values(title="Renamed in bulk")
                 .execution_options(synchronize_session=False))
    db().commit()
    assert anon.get(path, headers={"If-None-Match": first}).status_code == 200
    second = anon.get(path).headers["ETag"]
    db().rollback()
    assert anon.get(path, headers={"If-None-Match": second}).status_code == 304  # a rollback moves nothing


def test_a_current_etag_never_outlives_its_feed(partner, coordinator, anon, people, create_booking, clock):  # noqa: F811
    """The validators come from the same read as the token: rotation, revocation and the owner's token
    revocation answer 404 to the very next request, even one holding the current ETag."""
    from tests.conftest import problem

    create_booking(people["trust"])
    created = subscribe(partner, scope="programme")
    path = feed_path(created)
    etag = anon.get(path).headers["ETag"]
    rotated = partner.post(f"/api/v1/feeds/{created['id']}/rotate")
    assert problem(anon.get(path, headers={"If-None-Match": etag}))["status"] == 404

    path = feed_path(rotated.json)
    etag = anon.get(path).headers["ETag"]
    assert anon.get(path, headers={"If-None-Match": etag}).status_code == 304
    token_id = next(t["id"] for t in coordinator.get("/api/v1/tokens").json if t["role"] == "partner")
    assert coordinator.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert problem(anon.get(path, headers={"If-None-Match": etag}))["status"] == 404

    other = subscribe(coordinator, scope="programme")
    path = feed_path(other)
    etag = anon.get(path).headers["ETag"]
    item = f"/api/v1/feeds/{other['id']}"
    assert coordinator.delete(item, etag=coordinator.get(item).headers["ETag"]).status_code == 204
    assert problem(anon.get(path, headers={"If-None-Match": etag}))["status"] == 404


def test_a_change_moves_the_etag_and_last_modified_read_with_the_token(
        coordinator, anon, people, create_booking, change_booking, clock, db):  # noqa: F811
    from api.derived import state

    clock["now"] = datetime.now(UTC) + timedelta(hours=1)  # Last-Modified is never later than now
    booking = create_booking(people["trust"], speakers=[(people["owain"], "guest")],
                             starts_at=clock["now"] + timedelta(days=7))
    path = feed_path(subscribe(coordinator, scope="speaker", speaker_id=people["owain"].id))
    first = anon.get(path)
    assert anon.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    change_booking(booking.id, title="Board development: stopping work")
    second = anon.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and b"SUMMARY:Board development: stopping work" in second.data
    assert second.headers["ETag"] != first.headers["ETag"]
    # The windows move daily, so a feed is also new at the start of its (UTC) day: after 23:00 UTC the
    # clock above is already in tomorrow, whose midnight is later than the change.
    clock_day = datetime.combine(clock["now"].date(), datetime.min.time(), tzinfo=UTC)
    assert second.headers["Last-Modified"] == http_date(max(state.read(db())[1], clock_day))
    assert anon.get(path, headers={"If-None-Match": second.headers["ETag"]}).status_code == 304


def test_each_zone_gets_the_vtimezone_for_the_local_years_its_events_touch(
        coordinator, anon, people, create_booking, clock, parse_all):  # noqa: F811
    """The spans come from the stored times: the earliest start and the latest end per zone, in local years.

    Auckland's last session starts on New Year's Day 2027 locally but on 31 December 2026 in UTC; London's
    latest end belongs to its first session by start, which runs for more than a year.
    """
    from api.calendar.render import vtimezone_for_years

    bookings = [
        create_booking(people["trust"], timezone="Pacific/Auckland",
                       starts_at=utc(2025, 12, 31, 10, 30), ends_at=utc(2025, 12, 31, 11, 30)),
        create_booking(people["trust"], timezone="Pacific/Auckland",
                       starts_at=utc(2026, 12, 31, 11, 30), ends_at=utc(2026, 12, 31, 12, 30)),
        create_booking(people["other_trust"], timezone="Europe/London",
                       starts_at=utc(2026, 3, 1, 10), ends_at=utc(2027, 6, 1, 10)),
        create_booking(people["trust"], timezone="Europe/London",
                       starts_at=utc(2026, 6, 1, 10), ends_at=utc(2026, 6, 1, 13)),
    ]
    data = anon.get(feed_path(subscribe(coordinator, scope="programme"))).data
    text = data.decode()
    assert vtimezone_for_years("Pacific/Auckland", 2025, 2027) in text
    assert vtimezone_for_years("Europe/London", 2026, 2027) in text
    assert text.count("BEGIN:VTIMEZONE") == 2
    assert_well_formed(data)
    assert_parsers_agree_with_bookings(parse_all(data), bookings)
