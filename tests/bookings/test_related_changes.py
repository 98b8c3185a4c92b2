"""A change to a related object that a booking's JSON shows is a new version of the booking.

SPEC: renaming or erasing a speaker or contact, renaming a topic, changes the booking's ETag and
``updated_at`` and makes it visible to ``updated_since``; a GET with the old ETag answers 200 with
the new content, never 304.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.bookings.conftest import iso

STARTS = datetime(2027, 4, 5, 10, tzinfo=timezone.utc)


@pytest.fixture
def booked(coordinator, make_trust, make_contact, book, speaker_with, seeded_topics):
    trust = make_trust()
    contacts = [make_contact(trust, name=name) for name in ("Chair A", "Chair B")]
    speaker = speaker_with(name="Dr Amara Okafor")
    r = book(trust, iso(STARTS), topics=["data"], attendee_ids=[c.id for c in contacts])
    assert r.status_code == 201, r.json
    r = coordinator.put(f"/api/v1/bookings/{r.json['id']}/speakers/{speaker.id}", json={})
    assert r.status_code == 200, r.json
    return {"booking": r.json, "etag": r.headers["ETag"], "speaker": speaker, "contacts": contacts}


def _patch(client, url: str, body: dict):
    r = client.patch(url, json=body, headers={"If-Match": client.get(url).headers["ETag"]})
    assert r.status_code == 200, r.json


def _rename_speaker(coordinator, booked):
    _patch(coordinator, f"/api/v1/speakers/{booked['speaker'].id}", {"name": "Dr Renamed"})


def _erase_speaker(coordinator, booked):
    assert coordinator.post(f"/api/v1/speakers/{booked['speaker'].id}/erase").status_code in (200, 204)


def _rename_contact(coordinator, booked):
    _patch(coordinator, f"/api/v1/contacts/{booked['contacts'][0].id}", {"name": "Chair Z"})


def _erase_contact(coordinator, booked):
    assert coordinator.post(f"/api/v1/contacts/{booked['contacts'][0].id}/erase").status_code in (200, 204)


def _rename_topic(coordinator, booked):
    topic = next(t for t in coordinator.get("/api/v1/topics?page_size=100").json if t["slug"] == "data")
    _patch(coordinator, f"/api/v1/topics/{topic['id']}", {"slug": "data-and-insight"})


@pytest.mark.parametrize("change", [_rename_speaker, _erase_speaker, _rename_contact, _erase_contact, _rename_topic],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_related_change_is_a_new_version_of_the_booking(coordinator, booked, change):
    before = booked["booking"]
    url = f"/api/v1/bookings/{before['id']}"
    since = datetime.now(timezone.utc) - timedelta(milliseconds=1)
    time.sleep(0.01)
    change(coordinator, booked)

    r = coordinator.get(url, headers={"If-None-Match": booked["etag"]})
    assert r.status_code == 200, "a GET with the old ETag must not answer 304"
    assert r.headers["ETag"] != booked["etag"]
    after = r.json
    assert after != before and after["updated_at"] > before["updated_at"]
    assert coordinator.get(url).json == after  # stored: the next read serves the same

    listed = coordinator.get("/api/v1/bookings", query_string={"updated_since": since.isoformat()}).json
    assert listed == [after]
