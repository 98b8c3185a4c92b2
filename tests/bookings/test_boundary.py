"""Integrity at the boundary (issue 12): what a partner may name, how long a booking may last, what a
partner's 409 reveals, and If-Match on a PUT that replaces a speaker's place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.bookings.conftest import at, future_monday, iso
from tests.conftest import problem


@pytest.fixture
def requested(partner, trust, make_contact, coordinator, book):
    """A partner's requested booking to which the programme team added notes and an attendee."""
    contact = make_contact(trust, name="Ceri Jones")
    b = book(trust, iso(future_monday()), client=partner, brief="Tailor to the new chair.").json
    url = f"/api/v1/bookings/{b['id']}"
    r = coordinator.patch(url, json={"notes": "Chair prefers mornings.", "attendee_ids": [contact.id]})
    assert r.status_code == 200, r.json
    return url


@pytest.mark.parametrize("body", [
    {"notes": None}, {"notes": ""}, {"attendee_ids": []}, {"kind": "follow_up"},
    {"override_availability": False}, {"cancel_reason": "x"}, {"brief": "ok", "notes": None},
])
def test_a_partner_naming_a_field_it_may_not_set_is_403_and_changes_nothing(partner, coordinator, requested,
                                                                            body):
    before = coordinator.get(requested)
    r = partner.patch(requested, json=body)
    assert problem(r)["status"] == 403, r.json
    after = coordinator.get(requested)
    assert after.json == before.json and after.headers["ETag"] == before.headers["ETag"]
    assert after.json["notes"] == "Chair prefers mornings." and len(after.json["attendee_ids"]) == 1


def test_a_partner_creating_with_internal_fields_even_empty_is_403(partner, trust, book, coordinator):
    for extra in ({"notes": None}, {"attendee_ids": []}, {"cancel_reason": "x"}):
        r = book(trust, iso(future_monday()), client=partner, **extra)
        assert problem(r)["status"] == 403, (extra, r.json)
    assert coordinator.get("/api/v1/bookings").json == []


def test_a_partner_changes_its_requested_booking_and_only_cancels_later(partner, coordinator, requested):
    changed = partner.patch(requested, json={"brief": "Focus on data.", "format": "hybrid",
                                             "location": "Leeds General Infirmary"})
    assert changed.status_code == 200, changed.json
    full = coordinator.get(requested).json
    assert full["brief"] == "Focus on data." and full["notes"] == "Chair prefers mornings."
    assert coordinator.patch(requested, json={"status": "confirmed"}).status_code == 200
    for body in ({"brief": "x"}, {"cancel_reason": "Moved"}, {"status": "cancelled", "brief": "x"}):
        assert problem(partner.patch(requested, json=body))["status"] == 403, body
    cancelled = partner.patch(requested, json={"status": "cancelled", "cancel_reason": "CQC visit"})
    assert cancelled.status_code == 200 and cancelled.json["cancel_reason"] == "CQC visit"


def test_a_partner_may_not_touch_cancel_reason_of_a_delivered_booking(partner, partner_org, coordinator, trust,
                                                                      book):
    b = book(trust, at("2025-03-05", "10:00"), status="delivered").json
    from api.bookings.models import Booking
    from api.extensions import Session

    Session().get(Booking, b["id"]).partner_id = partner_org.id
    Session().commit()
    url = f"/api/v1/bookings/{b['id']}"
    assert problem(partner.patch(url, json={"cancel_reason": "Rewriting history"}))["status"] == 403
    assert coordinator.get(url).json["cancel_reason"] is None


@pytest.mark.parametrize("who", ["coordinator", "partner"])
def test_a_booking_lasts_at_most_12_hours(who, request, trust, book, coordinator):
    client = request.getfixturevalue(who)
    start = future_monday()
    too_long = book(trust, iso(start), client=client, ends_at=iso(start + timedelta(hours=12, minutes=1)))
    assert problem(too_long)["status"] == 422 and "ends_at" in too_long.json["errors"]
    until_2199 = book(trust, iso(start), client=client, ends_at="2199-01-01T00:00:00Z")
    assert problem(until_2199)["status"] == 422
    b = book(trust, iso(start), client=client, ends_at=iso(start + timedelta(hours=12)))
    assert b.status_code == 201, b.json
    url = f"/api/v1/bookings/{b.json['id']}"
    longer = client.patch(url, json={"ends_at": iso(start + timedelta(hours=13))})
    assert problem(longer)["status"] == 422 and "ends_at" in longer.json["errors"]
    moved = client.patch(url, json={"starts_at": iso(start - timedelta(hours=1))})  # keeps its 12 hours
    assert moved.status_code == 200, moved.json
    assert coordinator.get(url).json["ends_at"] == iso(start + timedelta(hours=11))


def test_a_partners_409_hides_someone_elses_booking(partner, coordinator, trust, book):
    start = future_monday()
    theirs = book(trust, iso(start))  # the programme team's booking for the same trust
    assert theirs.status_code == 201
    r = book(trust, iso(start + timedelta(hours=1)), client=partner)
    body = problem(r)
    assert body["status"] == 409
    assert body["conflicts"] == [{"kind": "trust_overlap", "booking_id": None, "speaker_id": None}]
    assert theirs.json["id"] not in r.get_data(as_text=True)
    # The coordinator sees what it hit.
    full = problem(book(trust, iso(start + timedelta(hours=1))))["conflicts"]
    assert full == [{"kind": "trust_overlap", "booking_id": theirs.json["id"], "speaker_id": None,
                     "starts_at": iso(start), "ends_at": iso(start + timedelta(hours=3))}]
    # Its own booking is its own business: shown in full.
    mine = book(trust, iso(start + timedelta(days=1)), client=partner).json
    clash = problem(book(trust, iso(start + timedelta(days=1, hours=1)), client=partner))["conflicts"]
    assert clash == [{"kind": "trust_overlap", "booking_id": mine["id"], "speaker_id": None,
                      "starts_at": mine["starts_at"], "ends_at": mine["ends_at"]}]


def test_a_partners_reschedule_names_its_speaker_but_not_the_other_booking(partner, coordinator, make_trust, book,
                                                                          speaker_with):
    speaker = speaker_with()
    start = future_monday()
    mine = book(make_trust(), iso(start), client=partner).json
    r = coordinator.put(f"/api/v1/bookings/{mine['id']}/speakers/{speaker.id}", json={"role": "guest"})
    assert r.status_code == 200, r.json
    other = book(make_trust(), iso(start + timedelta(days=1))).json
    assert coordinator.put(f"/api/v1/bookings/{other['id']}/speakers/{speaker.id}", json={}).status_code == 200
    moved = partner.patch(f"/api/v1/bookings/{mine['id']}", json={"starts_at": iso(start + timedelta(days=1))})
    body = problem(moved)
    assert body["status"] == 409
    assert body["conflicts"] == [{"kind": "speaker_overlap", "booking_id": None, "speaker_id": speaker.id}]
    assert other["id"] not in moved.get_data(as_text=True)


def test_replacing_a_speakers_place_needs_if_match(coordinator, trust, book, speaker_with):
    speaker = speaker_with()
    b = book(trust, iso(future_monday())).json
    url = f"/api/v1/bookings/{b['id']}/speakers/{speaker.id}"
    added = coordinator.put(url, json={"role": "guest"})  # the PUT that first places them needs none
    assert added.status_code == 200, added.json
    assert problem(coordinator.put(url, json={"role": "facilitator"}))["status"] == 428
    stale = coordinator.put(url, json={"role": "facilitator"}, headers={"If-Match": b and '"stale"'})
    assert problem(stale)["status"] == 412
    assert coordinator.get(f"/api/v1/bookings/{b['id']}").json["speakers"][0]["role"] == "guest"
    ok = coordinator.put(url, json={"role": "facilitator"}, headers={"If-Match": added.headers["ETag"]})
    assert ok.status_code == 200 and ok.json["speakers"][0]["role"] == "facilitator"
    assert coordinator.put(url, json={"role": "guest"}, headers={"If-Match": "*"}).status_code == 200
