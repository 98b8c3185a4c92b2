"""A board member's own feed, and the invite a person taken off a booking is given."""

from __future__ import annotations

import icalendar

from tests.conftest import problem
from tests.mail.conftest import future


def test_a_removed_speaker_gets_a_cancel_from_invite_ics(coordinator, partner, confirmed_booking, people, parse_all):
    booking = confirmed_booking()
    amara = people["speakers"][1]
    url = f"/api/v1/bookings/{booking['id']}"
    assert coordinator.delete(f"{url}/speakers/{amara.id}").status_code == 204
    r = coordinator.get(f"{url}/invite.ics?attendee={amara.id}")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/calendar; method=CANCEL; charset=utf-8"
    assert coordinator.get(f"{url}/invite.ics").headers["Content-Type"] == "text/calendar; method=REQUEST; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(r.data)
    assert str(calendar["METHOD"]) == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and str(event["ATTENDEE"]) == "mailto:amara@example.org"
    for parser, [parsed] in parse_all(r.data).items():
        assert parsed["status"] == "CANCELLED" and parsed["uid"] == f"{booking['id']}@boardroom", parser
    # Someone who was never on it is still 422.
    stranger = people["speakers"][2]
    assert problem(coordinator.get(f"{url}/invite.ics?attendee={stranger.id}"))["status"] == 422


def subscribe(client, **body):
    r = client.post("/api/v1/feeds", json=body)
    return r


def test_a_board_members_feed_lists_the_sessions_they_attend_without_the_brief(
        coordinator, partner, anon, people, create_contact, parse_all):
    sian, ada = people["contacts"][0], people["contacts"][1]
    attended = coordinator.post("/api/v1/bookings", json={
        "trust_id": people["trust"].id, "kind": "board_development", "format": "virtual", "starts_at": future(20),
        "title": "Sian's session", "brief": "SECRET interview notes", "attendee_ids": [sian.id]}).json
    coordinator.post("/api/v1/bookings", json={
        "trust_id": people["trust"].id, "kind": "board_development", "format": "virtual", "starts_at": future(25),
        "title": "Ada's session", "attendee_ids": [ada.id]})
    r = subscribe(coordinator, scope="contact", contact_id=sian.id)
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.json
    assert created["contact_id"] == sian.id and created["scope"] == "contact"
    path = created["url"].split("boardroom.test", 1)[1]
    feed = anon.get(path)
    assert feed.status_code == 200 and b"METHOD:PUBLISH" in feed.data
    assert b"SECRET" not in feed.data and b"sian@example" not in feed.data
    events = parse_all(feed.data)
    for parser, parsed in events.items():
        assert [e["uid"] for e in parsed] == [f"{attended['id']}@boardroom"], parser
    assert "Siân Llŷr" in icalendar.Calendar.from_ical(feed.data)["X-WR-CALNAME"]
    etag = feed.headers["ETag"]
    assert anon.get(path, headers={"If-None-Match": etag}).status_code == 304
    # A rename of the contact (the feed's name) moves the ETag.
    coordinator.patch(f"/api/v1/contacts/{sian.id}", json={"name": "Siân Llŷr-Jones"})
    assert anon.get(path, headers={"If-None-Match": etag}).status_code == 200
    # Rotatable and revocable like the others.
    rotated = coordinator.post(f"/api/v1/feeds/{created['id']}/rotate")
    assert rotated.status_code == 200 and anon.get(path).status_code == 404
    new_path = rotated.json["url"].split("boardroom.test", 1)[1]
    assert anon.get(new_path).status_code == 200
    assert coordinator.delete(f"/api/v1/feeds/{created['id']}").status_code == 204
    assert anon.get(new_path).status_code == 404


def test_contact_feeds_are_for_coordinators_and_validated(coordinator, partner, people):
    sian = people["contacts"][0]
    assert problem(subscribe(partner, scope="contact", contact_id=sian.id))["status"] == 403
    body = problem(subscribe(coordinator, scope="contact"))
    assert body["status"] == 422 and "contact_id" in body["errors"]
    body = problem(subscribe(coordinator, scope="contact", contact_id="00000000-0000-4000-8000-000000000000"))
    assert body["status"] == 422 and "contact_id" in body["errors"]
    body = problem(subscribe(coordinator, scope="trust", trust_id=people["trust"].id, contact_id=sian.id))
    assert body["status"] == 422 and "contact_id" in body["errors"]
