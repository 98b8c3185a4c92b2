"""The feed's validators come from the data state: a 304 reads two indexed rows, and every write moves it."""

from __future__ import annotations

from sqlalchemy import update

from tests.calendar.test_feeds import clock, feed_path, people, subscribe  # noqa: F401  (fixtures)


def test_304_reads_the_token_and_the_data_state_only(coordinator, anon, people, create_booking, clock,  # noqa: F811
                                                     count_queries):
    for _ in range(3):
        create_booking(people["trust"])
    path = feed_path(subscribe(coordinator, scope="programme"))
    etag = anon.get(path).headers["ETag"]
    with count_queries() as statements:
        assert anon.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert len(statements) == 2 and "data_state" in statements[1] and "bookings" not in statements[1]


def test_bulk_writes_move_the_etag_and_stored_text_fills_do_not(coordinator, anon, people, create_booking,  # noqa: F811
                                                                clock, db):
    from api.bookings.calendar import store_vevents
    from api.bookings.models import Booking

    booking = create_booking(people["trust"])
    path = feed_path(subscribe(coordinator, scope="programme"))
    first = anon.get(path).headers["ETag"]
    store_vevents(db(), [(booking.id, "BEGIN:VEVENT\r\nEND:VEVENT\r\n")], only_if_missing=False)  # a cache fill
    db().commit()
    assert anon.get(path, headers={"If-None-Match": first}).status_code == 304
    db().execute(update(Booking).where(Booking.id == booking.id).values(title="Renamed in bulk")
                 .execution_options(synchronize_session=False))
    db().commit()
    assert anon.get(path, headers={"If-None-Match": first}).status_code == 200
    second = anon.get(path).headers["ETag"]
    db().rollback()
    assert anon.get(path, headers={"If-None-Match": second}).status_code == 304  # a rollback moves nothing
