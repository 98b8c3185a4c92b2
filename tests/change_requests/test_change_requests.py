"""Change requests: a partner asks to change its booking; a coordinator accepts (applied under every booking rule)
or declines; events, audit entries, scoping and CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.bookings.conftest import future_monday, iso, make_trust, trust  # noqa: F401 (fixtures)
from tests.conftest import problem


@pytest.fixture
def confirmed(partner, coordinator, trust):
    r = partner.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": iso(future_monday(8)),
                                               "video_url": "https://meet.example.org/a"})
    assert r.status_code == 201, r.json
    r = coordinator.patch(f"/api/v1/bookings/{r.json['id']}", json={"status": "confirmed"})
    assert r.status_code == 200, r.json
    return r.json


def _ask(partner, booking, **body):
    return partner.post(f"/api/v1/bookings/{booking['id']}/change-requests", json=body)


def test_partner_asks_and_the_booking_is_unchanged_until_accepted(partner, coordinator, confirmed, db):
    new_start = future_monday(9, 14)
    r = _ask(partner, confirmed, starts_at=iso(new_start), message="The chair cannot make the morning.")
    assert r.status_code == 201, r.json
    change = r.json
    assert (change["booking_id"], change["status"], change["requested_fields"]) == (
        confirmed["id"], "open", ["starts_at"])
    assert change["starts_at"] == iso(new_start) and change["response"] is None
    assert r.headers["Location"].endswith(f"/api/v1/change-requests/{change['id']}") and r.headers["ETag"]
    assert coordinator.get(f"/api/v1/bookings/{confirmed['id']}").json["starts_at"] == confirmed["starts_at"]

    r = coordinator.patch(f"/api/v1/change-requests/{change['id']}", json={"status": "accepted",
                                                                            "response": "Moved."})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["response"]) == ("accepted", "Moved.") and r.json["resolved_at"]
    booking = partner.get(f"/api/v1/bookings/{confirmed['id']}").json
    assert (booking["starts_at"], booking["ends_at"]) == (iso(new_start), iso(new_start + timedelta(hours=3)))
    assert booking["sequence"] == confirmed["sequence"] + 1 and booking["status"] == "confirmed"
    # Resolved once.
    again = coordinator.patch(f"/api/v1/change-requests/{change['id']}", json={"status": "declined"})
    assert again.status_code == 409

    from api.outbox import OutboxEvent
    from sqlalchemy import select
    types = db().scalars(select(OutboxEvent.type).where(OutboxEvent.entity_id == change["id"])
                         .order_by(OutboxEvent.occurred_at)).all()
    assert types == ["booking.change_requested", "change_request.resolved"]
    audit = coordinator.get(f"/api/v1/audit-events?entity_type=change_request&entity_id={change['id']}").json
    assert [a["action"] for a in audit] in (["create", "status_change"], ["status_change", "create"])


def test_accepting_a_conflicting_change_is_409_and_the_request_stays_open(partner, coordinator, confirmed, trust):
    taken = future_monday(10)
    assert coordinator.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": iso(taken)}).status_code == 201
    change = _ask(partner, confirmed, starts_at=iso(taken + timedelta(hours=1))).json
    r = coordinator.patch(f"/api/v1/change-requests/{change['id']}", json={"status": "accepted"})
    assert r.status_code == 409 and problem(r)["conflicts"][0]["kind"] == "trust_overlap"
    assert coordinator.get(f"/api/v1/change-requests/{change['id']}").json["status"] == "open"
    assert coordinator.get(f"/api/v1/bookings/{confirmed['id']}").json["starts_at"] == confirmed["starts_at"]
    # An invalid change (in-person without a place) is 422 on accepting, and also leaves it open.
    place = _ask(partner, confirmed, format="in_person").json
    r = coordinator.patch(f"/api/v1/change-requests/{place['id']}", json={"status": "accepted"})
    assert r.status_code == 422 and coordinator.get(f"/api/v1/change-requests/{place['id']}").json["status"] == "open"


def test_declining_leaves_the_booking(partner, coordinator, confirmed):
    change = _ask(partner, confirmed, video_url="https://meet.example.org/b").json
    r = coordinator.patch(f"/api/v1/change-requests/{change['id']}", json={"status": "declined",
                                                                            "response": "Keep the link."})
    assert r.status_code == 200 and r.json["status"] == "declined"
    assert coordinator.get(f"/api/v1/bookings/{confirmed['id']}").json["video_url"] == "https://meet.example.org/a"


def test_a_named_null_clears_and_a_message_alone_is_enough(partner, coordinator, confirmed):
    change = _ask(partner, confirmed, video_url=None).json
    assert change["requested_fields"] == ["video_url"]
    coordinator.patch(f"/api/v1/change-requests/{change['id']}", json={"status": "accepted"})
    assert coordinator.get(f"/api/v1/bookings/{confirmed['id']}").json["video_url"] is None
    r = _ask(partner, confirmed, message="Could a second speaker join?")
    assert r.status_code == 201 and r.json["requested_fields"] == []


@pytest.mark.parametrize("body, field", [
    ({}, "message"),
    ({"message": "   "}, "message"),
    ({"starts_at": "2020-01-06T10:00:00Z"}, "starts_at"),
    ({"starts_at": None}, "starts_at"),
    ({"format": "radio"}, "format"),
    ({"notes": "x"}, "notes"),
    ({"starts_at": iso(future_monday(9, 14)), "ends_at": iso(future_monday(9, 13))}, "ends_at"),
])
def test_bad_requests_are_422(partner, confirmed, body, field):
    r = _ask(partner, confirmed, **body)
    assert r.status_code == 422 and field in problem(r)["errors"], r.json


def test_only_on_the_partners_own_timed_booking_no_longer_requested(partner, other_partner, coordinator, trust,
                                                                     confirmed, viewer):
    requested = partner.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": iso(future_monday(12))}).json
    assert _ask(partner, requested, message="x").status_code == 409
    assert _ask(other_partner, confirmed, message="x").status_code == 404
    assert _ask(coordinator, confirmed, message="x").status_code == 403
    assert _ask(viewer, confirmed, message="x").status_code == 403
    coordinator.patch(f"/api/v1/bookings/{confirmed['id']}", json={"status": "cancelled"})
    assert _ask(partner, confirmed, message="x").status_code == 409


def test_lists_are_scoped_filtered_and_csv(partner, other_partner, coordinator, viewer, confirmed):
    first = _ask(partner, confirmed, message="=HYPERLINK(\"x\")").json
    second = _ask(partner, confirmed, video_url="https://meet.example.org/c").json
    coordinator.patch(f"/api/v1/change-requests/{second['id']}", json={"status": "declined"})
    assert [c["id"] for c in partner.get("/api/v1/change-requests").json] == [first["id"], second["id"]]
    assert other_partner.get("/api/v1/change-requests").json == []
    assert other_partner.get(f"/api/v1/change-requests/{first['id']}").status_code == 404
    assert partner.patch(f"/api/v1/change-requests/{first['id']}", json={"status": "accepted"}).status_code == 403
    assert [c["id"] for c in viewer.get("/api/v1/change-requests?status=open").json] == [first["id"]]
    assert [c["id"] for c in coordinator.get(
        f"/api/v1/change-requests?booking_id={confirmed['id']}&status=declined").json] == [second["id"]]
    r = coordinator.get("/api/v1/change-requests", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["id"] for row in rows] == [first["id"], second["id"]]
    assert rows[0]["message"].startswith("'=")
    assert coordinator.get("/api/v1/change-requests?status=nope").status_code == 422


def test_patch_needs_if_match(coordinator, partner, confirmed):
    change = _ask(partner, confirmed, message="x")
    url = f"/api/v1/change-requests/{change.json['id']}"
    assert coordinator.patch(url, json={"status": "declined"}, etag=None).status_code == 428
    assert coordinator.patch(url, json={"status": "declined"}, etag='"stale"').status_code == 412
    assert coordinator.patch(url, json={"status": "declined"}, etag=change.headers["ETag"]).status_code == 200
