"""A feed polled without If-None-Match is served its kept body while its ETag stands, and never a stale one."""

from __future__ import annotations

from api.calendar.service import FeedBodies
from tests.calendar.conftest import utc
from tests.calendar.test_feeds import clock, feed_path, people, subscribe  # noqa: F401 - fixtures shared


def test_a_kept_body_is_served_until_a_change_then_the_new_one(coordinator, anon, app, people, create_booking):
    amara = people["amara"]
    booking = create_booking(people["trust"], speakers=[(amara, "facilitator")], starts_at=utc(2027, 3, 3, 10))
    created = subscribe(coordinator, scope="speaker", speaker_id=amara.id)
    first = anon.get(feed_path(created))
    assert first.status_code == 200
    kept = app.extensions["feed_bodies"]
    assert kept.get(created["id"], first.headers["ETag"]) == first.data
    again = anon.get(feed_path(created))  # no If-None-Match: the whole body, the same one
    assert again.status_code == 200 and again.data == first.data and again.headers["ETag"] == first.headers["ETag"]

    r = coordinator.patch(f"/api/v1/bookings/{booking.id}", json={"title": "Renamed for the feed"})
    assert r.status_code == 200, r.get_data(as_text=True)
    after = anon.get(feed_path(created))
    assert after.headers["ETag"] != first.headers["ETag"]
    assert b"Renamed for the feed" in after.data and b"Renamed for the feed" not in first.data
    assert kept.get(created["id"], first.headers["ETag"]) is None  # the newer version replaced the older
    assert kept.get(created["id"], after.headers["ETag"]) == after.data

    assert coordinator.delete(f"/api/v1/feeds/{created['id']}").status_code == 204
    assert anon.get(feed_path(created)).status_code == 404  # revoked: no kept body outlives it


def test_bodies_are_bounded_in_bytes_least_recently_used_out():
    kept = FeedBodies(max_bytes=400)
    kept.put("a", '"1"', b"x" * 100)
    kept.put("b", '"1"', b"y" * 100)
    assert kept.get("a", '"1"') == b"x" * 100  # a is now the most recent
    kept.put("c", '"1"', b"z" * 100)
    kept.put("d", '"1"', b"w" * 100)
    kept.put("e", '"1"', b"v" * 100)  # over 400 bytes: b, the least recently used, goes
    assert kept.get("b", '"1"') is None and kept.get("a", '"1"') is not None
    assert kept.get("a", '"2"') is None  # another ETag is another version
    kept.put("big", '"1"', b"q" * 101)  # over a quarter of the budget: never kept
    assert kept.get("big", '"1"') is None
