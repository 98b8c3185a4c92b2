"""Bookings as a client sees them: defaults, validation, lifecycle, sequence, partners, lists."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.bookings.conftest import at, future_monday, iso
from tests.conftest import problem


def test_create_applies_defaults_and_returns_every_field(coordinator, trust, book):
    r = book(trust, at("2027-01-11", "10:00"))
    assert r.status_code == 201, r.json
    b = r.json
    assert b["ends_at"] == "2027-01-11T13:00:00Z"
    assert b["timezone"] == "Europe/London"
    assert b["title"] == "Board development session: Leeds Teaching Hospitals NHS Trust"
    assert (b["status"], b["kind"], b["format"], b["sequence"]) == ("requested", "board_development", "virtual", 0)
    assert b["speakers"] == [] and b["attendee_ids"] == [] and b["topics"] == []
    assert b["partner_id"] is None and b["cancelled_at"] is None
    for field in ("id", "trust_id", "external_ref", "location", "video_url", "brief", "notes", "cancel_reason",
                  "created_at", "updated_at"):
        assert field in b
    assert r.headers["Location"].endswith(f"/api/v1/bookings/{b['id']}")
    got = coordinator.get(r.headers["Location"])
    assert got.status_code == 200 and got.json == b and got.headers["ETag"] == r.headers["ETag"]
    assert coordinator.get(r.headers["Location"], headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_timezone_defaults_to_the_trusts(make_trust, book):
    trust = make_trust(timezone="Europe/Dublin")
    assert book(trust, at("2027-01-11", "10:00")).json["timezone"] == "Europe/Dublin"


def test_topics_attendees_and_title_round_trip(coordinator, trust, book, seeded_topics, make_contact):
    chair = make_contact(trust, name="Ceri Jones")
    r = book(trust, at("2027-01-11", "10:00"), kind="masterclass", topics=["data", "cyber-security"],
             attendee_ids=[chair.id], title="Cyber masterclass", brief="Focus on ransomware.")
    assert r.status_code == 201, r.json
    assert r.json["topics"] == ["cyber-security", "data"]
    assert r.json["attendee_ids"] == [chair.id]
    assert r.json["title"] == "Cyber masterclass"


def test_references_are_checked_with_the_field_named(trust, book, make_trust, make_contact, seeded_topics):
    other_contact = make_contact(make_trust())
    cases = [
        ({"trust_id": "00000000-0000-4000-8000-000000000000"}, "trust_id"),
        ({"trust_id": "not-a-uuid"}, "trust_id"),
        ({"topics": ["no-such-topic"]}, "topics"),
        ({"attendee_ids": ["00000000-0000-4000-8000-000000000000"]}, "attendee_ids"),
        ({"attendee_ids": [other_contact.id]}, "attendee_ids"),
        ({"format": "in_person"}, "location"),
        ({"format": "hybrid", "location": "  "}, "location"),
        ({"ends_at": at("2027-01-11", "10:00")}, "ends_at"),
        ({"ends_at": at("2027-01-11", "09:00")}, "ends_at"),
        ({"starts_at": "2027-01-11T10:00:00"}, "starts_at"),
        ({"kind": "party"}, "kind"),
        ({"status": "done"}, "status"),
        ({"sequence": 4}, "sequence"),
        ({"starts_at": "0001-01-01T00:00:00Z"}, "starts_at"),
        ({"title": None}, "title"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"video_url": "ftp://x.example"}, "video_url"),
    ]
    for extra, field in cases:
        body = {"starts_at": at("2027-01-11", "10:00"), **extra}
        r = book(body.pop("trust_id", trust), body.pop("starts_at"), **body)
        assert r.status_code == 422, (extra, r.json)
        assert field in problem(r)["errors"], (extra, r.json)


def test_archived_trust_takes_no_new_bookings(make_trust, book):
    from datetime import datetime, timezone as tz

    trust = make_trust(archived_at=datetime(2026, 1, 1, tzinfo=tz.utc))
    assert "trust_id" in problem(book(trust, at("2027-01-11", "10:00")))["errors"]


def test_in_person_with_location_is_fine(trust, book):
    r = book(trust, at("2027-01-11", "10:00"), format="in_person", location="Boardroom, St James's")
    assert r.status_code == 201 and r.json["location"] == "Boardroom, St James's"


def test_coordinator_backfills_history_but_delivered_needs_an_ended_session(trust, book):
    past = book(trust, at("2021-05-04", "10:00"), status="delivered")
    assert past.status_code == 201 and past.json["status"] == "delivered"
    future = book(trust, at("2027-05-04", "10:00"), status="delivered")
    assert future.status_code == 409
    assert "ended" in problem(future)["detail"]
    assert book(trust, at("2027-05-05", "10:00"), status="confirmed").json["status"] == "confirmed"


def test_dst_round_trip(coordinator, trust, book):
    # Friday before the clocks go forward (GMT), Monday after (BST).
    before = book(trust, at("2026-03-27", "10:00", "+00:00"), timezone="Europe/London")
    after = book(trust, at("2026-03-30", "10:00", "+01:00"), timezone="Europe/London")
    assert before.json["starts_at"] == "2026-03-27T10:00:00Z" and before.json["ends_at"] == "2026-03-27T13:00:00Z"
    assert after.json["starts_at"] == "2026-03-30T09:00:00Z" and after.json["ends_at"] == "2026-03-30T12:00:00Z"
    assert coordinator.get(f"/api/v1/bookings/{after.json['id']}").json["starts_at"] == "2026-03-30T09:00:00Z"


def test_trust_overlap_is_409_naming_the_other_booking_and_back_to_back_is_fine(trust, book, make_trust):
    first = book(trust, at("2027-01-11", "10:00")).json
    clash = book(trust, at("2027-01-11", "12:59"))
    assert clash.status_code == 409
    body = problem(clash)
    assert body["conflicts"] == [{"kind": "trust_overlap", "booking_id": first["id"], "speaker_id": None,
                                  "starts_at": first["starts_at"], "ends_at": first["ends_at"]}]
    # Offsets are absolute time: 14:00+01:00 is 13:00Z, right after the first.
    assert book(trust, at("2027-01-11", "14:00", "+01:00")).status_code == 201
    assert book(trust, at("2027-01-11", "07:00"), ends_at=at("2027-01-11", "10:00")).status_code == 201
    assert book(make_trust(), at("2027-01-11", "10:00")).status_code == 201  # another trust


def test_lifecycle_transitions(coordinator, trust, book):
    b = book(trust, at("2021-01-11", "10:00")).json
    url = f"/api/v1/bookings/{b['id']}"
    bad = coordinator.patch(url, json={"status": "delivered"})
    assert bad.status_code == 409 and problem(bad)["allowed"] == ["provisional", "confirmed", "cancelled"]
    assert coordinator.patch(url, json={"status": "provisional"}).json["status"] == "provisional"
    back = coordinator.patch(url, json={"status": "requested"})
    assert back.status_code == 409 and problem(back)["allowed"] == ["confirmed", "cancelled"]
    assert coordinator.patch(url, json={"status": "confirmed"}).json["status"] == "confirmed"
    done = coordinator.patch(url, json={"status": "delivered"})
    assert done.status_code == 200 and done.json["status"] == "delivered"
    final = coordinator.patch(url, json={"status": "cancelled"})
    assert final.status_code == 409 and problem(final)["allowed"] == []


def test_requested_may_go_straight_to_confirmed_but_delivered_waits_for_the_end(coordinator, trust, book):
    b = book(trust, at("2027-01-11", "10:00")).json
    url = f"/api/v1/bookings/{b['id']}"
    assert coordinator.patch(url, json={"status": "confirmed"}).json["status"] == "confirmed"
    early = coordinator.patch(url, json={"status": "delivered"})
    assert early.status_code == 409 and "ended" in problem(early)["detail"]
    assert coordinator.get(url).json["status"] == "confirmed"


def test_cancel_frees_the_slot_and_bumps_sequence(coordinator, trust, book, speaker_with):
    speaker = speaker_with()
    b = book(trust, at("2027-01-11", "10:00")).json
    url = f"/api/v1/bookings/{b['id']}"
    coordinator.put(f"{url}/speakers/{speaker.id}", json={"role": "guest"})
    r = coordinator.patch(url, json={"status": "cancelled", "cancel_reason": "Board meeting moved."})
    assert r.status_code == 200, r.json
    c = r.json
    assert c["status"] == "cancelled" and c["cancel_reason"] == "Board meeting moved."
    assert c["cancelled_at"] is not None and c["sequence"] == 1
    again = book(trust, at("2027-01-11", "10:00"))
    assert again.status_code == 201, again.json
    second = again.json["id"]
    assert coordinator.put(f"/api/v1/bookings/{second}/speakers/{speaker.id}", json={}).status_code == 200
    # A cancelled booking takes no more changes.
    assert coordinator.patch(url, json={"title": "x"}).status_code == 409
    assert coordinator.put(f"{url}/speakers/{speaker.id}", json={}, headers={"If-Match": "*"}).status_code == 409


def test_sequence_grows_for_time_format_location_and_link_not_for_title(coordinator, trust, book):
    b = book(trust, at("2027-01-11", "10:00")).json
    url = f"/api/v1/bookings/{b['id']}"
    assert coordinator.patch(url, json={"title": "Renamed"}).json["sequence"] == 0
    assert coordinator.patch(url, json={"video_url": "https://meet.example.org/x"}).json["sequence"] == 1
    assert coordinator.patch(url, json={"starts_at": at("2027-01-12", "10:00")}).json["sequence"] == 2
    moved = coordinator.patch(url, json={"format": "hybrid", "location": "Leeds"}).json
    assert moved["sequence"] == 3
    assert (moved["starts_at"], moved["ends_at"]) == ("2027-01-12T10:00:00Z", "2027-01-12T13:00:00Z")
    assert coordinator.patch(url, json={"location": None}).status_code == 422  # hybrid needs a location


def test_patch_needs_if_match_and_rejects_stale(coordinator, trust, book):
    r = book(trust, at("2027-01-11", "10:00"))
    url, etag = r.headers["Location"], r.headers["ETag"]
    assert problem(coordinator.patch(url, json={"title": "x"}, etag=None))["status"] == 428
    ok = coordinator.patch(url, json={"title": "New"}, etag=etag)
    assert ok.status_code == 200 and ok.headers["ETag"] != etag
    assert coordinator.patch(url, json={"title": "Newer"}, etag=etag).status_code == 412
    assert coordinator.patch(url, json={"trust_id": trust.id}).status_code == 422  # a booking keeps its trust


def test_viewer_reads_but_cannot_write(viewer, trust, book):
    b = book(trust, at("2027-01-11", "10:00")).json
    assert viewer.get(f"/api/v1/bookings/{b['id']}").json["notes"] is None
    assert viewer.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": at("2027-02-01", "10:00")}).status_code == 403
    assert viewer.patch(f"/api/v1/bookings/{b['id']}", json={"title": "x"}).status_code == 403


def test_malformed_ids_are_404_and_unknown_is_404(coordinator):
    assert coordinator.get("/api/v1/bookings/nope").status_code == 404
    assert coordinator.get("/api/v1/bookings/00000000-0000-4000-8000-000000000000").status_code == 404


def test_every_write_is_audited_and_emitted(coordinator, trust, book, db, speaker_with):
    from api.audit import AuditEvent
    from api.outbox import OutboxEvent

    speaker = speaker_with()
    b = book(trust, at("2027-01-11", "10:00"), notes="internal").json
    url = f"/api/v1/bookings/{b['id']}"
    coordinator.patch(url, json={"title": "Renamed"})
    coordinator.patch(url, json={"title": "Renamed"})  # nothing changes: nothing recorded
    coordinator.put(f"{url}/speakers/{speaker.id}", json={"role": "facilitator"})
    coordinator.delete(f"{url}/speakers/{speaker.id}")
    coordinator.patch(url, json={"status": "confirmed"})
    coordinator.patch(url, json={"status": "cancelled", "cancel_reason": "No quorum"})
    actions = db().scalars(select(AuditEvent.action).where(AuditEvent.entity_id == b["id"])
                           .order_by(AuditEvent.occurred_at)).all()
    assert actions == ["create", "update", "speaker_added", "speaker_removed", "status_change", "cancel"]
    events = db().scalars(select(OutboxEvent).where(OutboxEvent.entity_id == b["id"])
                          .order_by(OutboxEvent.occurred_at)).all()
    assert [e.type for e in events] == ["booking.created", "booking.updated", "booking.updated", "booking.updated",
                                        "booking.status_changed", "booking.cancelled"]
    assert events[0].payload["notes"] == "internal"  # the coordinator's view; redacted per subscriber later
    assert events[4].payload["previous_status"] == "requested" and events[4].payload["status"] == "confirmed"
    assert events[5].payload["previous_status"] == "confirmed"
    title_change = db().scalar(select(AuditEvent).where(AuditEvent.entity_id == b["id"], AuditEvent.action == "update"))
    assert title_change.changes == {"title": {"before": b["title"], "after": "Renamed"}}


# --- partners -------------------------------------------------------------------------------------

def test_partner_creates_requested_future_bookings_without_internal_fields(partner, partner_org, coordinator, trust, book):
    start = iso(future_monday())
    r = book(trust, start, client=partner, external_ref="NHSP-1", brief="For the new chair.")
    assert r.status_code == 201, r.json
    b = r.json
    assert b["status"] == "requested" and b["partner_id"] == partner_org.id and b["external_ref"] == "NHSP-1"
    assert "notes" not in b and "attendee_ids" not in b
    full = coordinator.get(f"/api/v1/bookings/{b['id']}")
    assert full.json["notes"] is None and full.json["attendee_ids"] == []
    assert full.headers["ETag"] != r.headers["ETag"]  # the partner's view is another representation
    assert problem(book(trust, iso(future_monday(9)), client=partner, status="confirmed")).get("status") == 403
    assert "starts_at" in problem(book(trust, at("2021-01-11", "10:00"), client=partner))["errors"]
    assert "notes" in problem(book(trust, iso(future_monday(10)), client=partner, notes="x"))["errors"]


def test_partner_external_ref_is_unique_per_partner_and_filterable(partner, other_partner, coordinator, trust,
                                                                     make_trust, book, partner_org):
    assert book(trust, iso(future_monday()), client=partner, external_ref="REF-1").status_code == 201
    dup = book(make_trust(), iso(future_monday(9)), client=partner, external_ref="REF-1")
    assert dup.status_code == 409 and "REF-1" in problem(dup)["detail"]
    assert book(make_trust(), iso(future_monday(10)), client=other_partner, external_ref="REF-1").status_code == 201
    mine = partner.get("/api/v1/bookings?external_ref=REF-1").json
    assert len(mine) == 1 and mine[0]["partner_id"] == partner_org.id
    assert len(coordinator.get("/api/v1/bookings?external_ref=REF-1").json) == 2
    assert len(coordinator.get(f"/api/v1/bookings?partner_id={partner_org.id}").json) == 1


def test_partner_sees_and_changes_only_its_own(partner, other_partner, coordinator, trust, book):
    theirs = book(trust, iso(future_monday()), client=other_partner).json
    ours = book(trust, iso(future_monday(9)), client=partner).json
    internal = book(trust, iso(future_monday(10))).json
    assert [b["id"] for b in partner.get("/api/v1/bookings").json] == [ours["id"]]
    for other in (theirs, internal):
        assert partner.get(f"/api/v1/bookings/{other['id']}").status_code == 404
        assert partner.patch(f"/api/v1/bookings/{other['id']}", json={"title": "x"}).status_code == 404
    assert len(coordinator.get("/api/v1/bookings").json) == 3


def test_partner_lifecycle_rights(partner, coordinator, trust, book):
    b = book(trust, iso(future_monday()), client=partner).json
    url = f"/api/v1/bookings/{b['id']}"
    changed = partner.patch(url, json={"title": "Digital board session", "starts_at": iso(future_monday(9))})
    assert changed.status_code == 200 and changed.json["title"] == "Digital board session"
    assert partner.patch(url, json={"status": "confirmed"}).status_code == 403
    assert partner.patch(url, json={"notes": "x"}).status_code == 403
    override = partner.patch(url, json={"starts_at": iso(future_monday(10)), "override_availability": True})
    assert override.status_code == 403 and partner.get(url).json["starts_at"] == changed.json["starts_at"]
    assert coordinator.patch(url, json={"status": "confirmed"}).status_code == 200
    assert partner.patch(url, json={"title": "Too late"}).status_code == 403
    cancelled = partner.patch(url, json={"status": "cancelled", "cancel_reason": "Clashes with CQC visit"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert "notes" not in cancelled.json


def test_partner_create_replays_with_idempotency_key(partner, trust, db):
    from api.bookings.models import Booking

    body = {"trust_id": trust.id, "starts_at": iso(future_monday()), "external_ref": "RETRY-1"}
    first = partner.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k-1"})
    again = partner.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert db().scalar(select(Booking.id).where(Booking.external_ref == "RETRY-1")) == first.json["id"]
    assert len(db().scalars(select(Booking).where(Booking.external_ref == "RETRY-1")).all()) == 1
    other = partner.post("/api/v1/bookings", json={**body, "external_ref": "RETRY-2"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422


def test_partner_may_not_touch_speakers(partner, trust, book, speaker_with):
    b = book(trust, iso(future_monday()), client=partner).json
    speaker = speaker_with()
    assert partner.put(f"/api/v1/bookings/{b['id']}/speakers/{speaker.id}", json={}).status_code == 403
    assert partner.get(f"/api/v1/bookings/{b['id']}").json["speakers"] == []
