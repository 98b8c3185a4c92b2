"""Tests generated from the map of derived state (``api.derived_map``).

For every dependency: change it through the API, then every rendering that shows it equals a fresh
render, the booking's ETag moved and ``updated_since`` returns it when its JSON shows the dependency,
and the feed's ETag changed. A dependency without a way to change it here, or a rendering that shows
a column the map does not declare, fails.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.types import String, Text

from api.derived_map import BOOKING, DEPENDENCIES
from tests.bookings.conftest import book, iso, make_contact, make_trust, speaker_with  # noqa: F401 (fixtures)

STARTS = datetime(2027, 6, 7, 10, tzinfo=timezone.utc)


def _patch(client, url: str, body: dict) -> None:
    r = client.patch(url, json=body, headers={"If-Match": client.get(url).headers["ETag"]})
    assert r.status_code == 200, r.json


def _topic_url(client, slug: str) -> str:
    topic = next(t for t in client.get("/api/v1/topics?page_size=100").json if t["slug"] == slug)
    return f"/api/v1/topics/{topic['id']}"


# How each dependency is changed by a client. A new Dependency in the map needs its line here.
CHANGES = {
    "speaker.name": lambda c, ctx: _patch(c, f"/api/v1/speakers/{ctx['speaker'].id}", {"name": "Dr Renamed"}),
    "contact.name": lambda c, ctx: _patch(c, f"/api/v1/contacts/{ctx['contacts'][0].id}", {"name": "Chair Z"}),
    "topic.slug": lambda c, ctx: _patch(c, _topic_url(c, "data"), {"slug": "data-and-insight"}),
    "topic.name": lambda c, ctx: _patch(c, _topic_url(c, "data"), {"name": "Data and insight"}),
    "trust.name": lambda c, ctx: _patch(c, f"/api/v1/trusts/{ctx['trust'].id}", {"name": "Renamed NHS Trust"}),
}


def test_every_dependency_in_the_map_has_a_change_here():
    assert set(CHANGES) == {d.name for d in DEPENDENCIES}


@pytest.fixture
def programme(coordinator, make_trust, make_contact, book, speaker_with, seeded_topics):
    trust = make_trust(name="Leeds Teaching Hospitals NHS Trust")
    contacts = [make_contact(trust, name=name) for name in ("Chair A", "Chair B")]
    speaker = speaker_with(name="Dr Amara Okafor")
    r = book(trust, iso(STARTS), topics=["data"], attendee_ids=[c.id for c in contacts])
    assert r.status_code == 201, r.json
    r = coordinator.put(f"/api/v1/bookings/{r.json['id']}/speakers/{speaker.id}", json={})
    assert r.status_code == 200, r.json
    feeds = [coordinator.post("/api/v1/feeds", json=body) for body in
             ({"scope": "programme"}, {"scope": "speaker", "speaker_id": speaker.id})]
    assert all(feed.status_code == 201 for feed in feeds)
    return {"trust": trust, "contacts": contacts, "speaker": speaker, "booking": r.json, "etag": r.headers["ETag"],
            "feeds": [feed.json["url"].removeprefix("https://boardroom.test") for feed in feeds]}


def _stored_and_fresh(db, app, booking_id: str) -> tuple[dict, dict]:
    """Each rendering as stored (the speaker feed's copies of the VEVENT as ``vevent@speaker``) and as a fresh
    render of the booking now."""
    from api.bookings.models import BookingRendering, SpeakerFeedEvent

    session = db()
    session.expire_all()
    row = session.execute(select(*[getattr(BookingRendering, r.column) for r in BOOKING.renderings])
                          .where(BookingRendering.booking_id == booking_id)).one()
    stored = {r.name: value for r, value in zip(BOOKING.renderings, row)}
    copies = set(session.scalars(select(SpeakerFeedEvent.ical_vevent).where(SpeakerFeedEvent.booking_id == booking_id)))
    assert len(copies) == 1
    stored["vevent@speaker"] = copies.pop()
    (booking,) = BOOKING.load(session, [booking_id])
    return stored, BOOKING.render(booking, app.config, [r.name for r in BOOKING.renderings])


@pytest.mark.parametrize("dependency", DEPENDENCIES, ids=lambda d: d.name)
def test_a_change_to_a_dependency_reaches_every_rendering_that_shows_it(coordinator, anon, db, app, programme,
                                                                        dependency):
    booking_id = programme["booking"]["id"]
    url = f"/api/v1/bookings/{booking_id}"
    feed_etags = [anon.get(feed).headers["ETag"] for feed in programme["feeds"]]
    _, before = _stored_and_fresh(db, app, booking_id)
    since = datetime.now(timezone.utc)
    time.sleep(0.01)

    CHANGES[dependency.name](coordinator, programme)

    # What clients read (filling what was cleared): the booking, the list, the feed.
    got = coordinator.get(url, headers={"If-None-Match": programme["etag"]})
    listed = coordinator.get("/api/v1/bookings", query_string={"updated_since": since.isoformat()}).json
    feeds = [anon.get(feed, headers={"If-None-Match": etag}) for feed, etag in zip(programme["feeds"], feed_etags)]
    assert all(feed.status_code == 200 and feed.headers["ETag"] != etag for feed, etag in zip(feeds, feed_etags))

    stored, fresh = _stored_and_fresh(db, app, booking_id)
    for name in dependency.renderings:
        assert fresh[name] != before[name], f"{dependency.name} is not shown by {name}: the map is wrong"
        assert stored[name] == fresh[name], name
    assert stored["vevent@speaker"] == fresh["vevent"]
    assert all(fresh["vevent"] in feed.get_data(as_text=True) for feed in feeds)

    if any(BOOKING.rendering(n).in_json for n in dependency.renderings):
        assert got.status_code == 200 and got.headers["ETag"] != programme["etag"]
        assert got.get_data(as_text=True) == fresh["json"]
        assert [b["id"] for b in listed] == [booking_id]
    else:  # the JSON does not show it: the same version of the booking
        assert got.status_code == 304
        assert listed == []


RELATED = {"trust": ("trust",), "speaker": ("speakers", "speaker"), "contact": ("attendees",), "topic": ("topics",)}


def test_no_rendering_shows_a_related_column_the_map_does_not_declare(db, app, programme):
    """Change every text column of every related row in memory: a rendering that changes must be declared."""
    booking_id = programme["booking"]["id"]
    session = db()
    session.expire_all()
    (booking,) = BOOKING.load(session, [booking_id])
    names = [r.name for r in BOOKING.renderings]
    base = BOOKING.render(booking, app.config, names)
    declared = {(d.model, attribute, rendering) for d in DEPENDENCIES for attribute in d.attributes
                for rendering in d.renderings}
    related = [booking.trust, *booking.attendees, *booking.topics, *(slot.speaker for slot in booking.speakers)]
    found = set()
    for obj in related:
        for column in inspect(type(obj)).columns:
            if not isinstance(column.type, (String, Text)) or column.key == "id" or column.foreign_keys:
                continue
            old = getattr(obj, column.key)
            setattr(obj, column.key, (old or "") + "-changed" if column.key != "timezone" else "Asia/Tokyo")
            changed = BOOKING.render(booking, app.config, names)
            setattr(obj, column.key, old)
            for name in names:
                if changed[name] != base[name]:
                    found.add((type(obj), column.key, name))
    session.rollback()
    assert found, "the probe changed nothing: it cannot fail"
    assert found - declared == set()
