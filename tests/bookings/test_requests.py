"""Booking requests without a time: preferred windows, `starts_at: null` until a coordinator sets a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from urllib.parse import urlsplit

import pytest

from tests.bookings.conftest import future_monday, iso
from tests.conftest import problem


def windows(*weeks: int) -> list[dict]:
    return [{"from": iso(future_monday(w, 9)), "to": iso(future_monday(w, 17))} for w in weeks]


@pytest.fixture
def request_booking(partner, trust):
    def _request(**kw):
        return partner.post("/api/v1/bookings", json={"trust_id": trust.id, "preferred_windows": windows(8, 9),
                                                      "external_ref": "NHSP-REQ-1", **kw})
    return _request


def test_partner_request_without_a_time_is_requested_with_null_times(request_booking, partner, trust):
    r = request_booking()
    assert r.status_code == 201, r.json
    b = r.json
    assert (b["status"], b["starts_at"], b["ends_at"]) == ("requested", None, None)
    assert b["preferred_windows"] == windows(8, 9)
    got = partner.get(f"/api/v1/bookings/{b['id']}")
    assert got.status_code == 200 and got.json == b


@pytest.mark.parametrize("body, field", [
    ({"preferred_windows": []}, "preferred_windows"),
    ({"preferred_windows": windows(1, 2, 3, 4, 5, 6)}, "preferred_windows"),
    ({"preferred_windows": [{"from": "2020-01-06T09:00:00Z", "to": "2020-01-06T17:00:00Z"}]},
     "preferred_windows.0.from"),
    ({"preferred_windows": [{"from": iso(future_monday(8, 9)), "to": iso(future_monday(8, 9) + timedelta(days=600))}]},
     "preferred_windows.0.to"),
    ({"preferred_windows": [{"from": iso(future_monday(8, 17)), "to": iso(future_monday(8, 9))}]},
     "preferred_windows.0.to"),
    ({"preferred_windows": [{"from": "2027-01-06T09:00:00"}]}, "preferred_windows"),
    ({"preferred_windows": None}, "starts_at"),
    ({"preferred_windows": windows(8), "ends_at": iso(future_monday(8, 12))}, "ends_at"),
])
def test_bad_windows_are_422_and_create_nothing(partner, trust, body, field):
    r = partner.post("/api/v1/bookings", json={"trust_id": trust.id, **body})
    assert r.status_code == 422, r.json
    errors = problem(r)["errors"]
    assert any(key == field or key.startswith(field + ".") or key.startswith(field) for key in errors), errors
    assert partner.get("/api/v1/bookings").json == []


def test_without_a_time_nor_windows_is_422(partner, trust):
    r = partner.post("/api/v1/bookings", json={"trust_id": trust.id})
    assert r.status_code == 422 and "starts_at" in problem(r)["errors"]


def test_untimed_request_is_in_no_filter_feed_invite_or_conflict_and_sorts_last(
        request_booking, partner, coordinator, anon, trust, book):
    untimed = request_booking().json
    timed = book(trust, iso(future_monday(10))).json
    # Listed, after every booking with a time, whichever the direction.
    assert [b["id"] for b in coordinator.get("/api/v1/bookings").json] == [timed["id"], untimed["id"]]
    assert [b["id"] for b in coordinator.get("/api/v1/bookings?sort=-starts_at").json] == [timed["id"], untimed["id"]]
    # No from/to filter matches it.
    r = coordinator.get("/api/v1/bookings", query_string={"from": "2000-01-01T00:00:00Z", "to": "2199-01-01T00:00:00Z"})
    assert [b["id"] for b in r.json] == [timed["id"]]
    # No invite.
    r = partner.get(f"/api/v1/bookings/{untimed['id']}/invite.ics")
    assert r.status_code == 409 and problem(r)
    # In no feed.
    feed = coordinator.post("/api/v1/feeds", json={"scope": "trust", "trust_id": trust.id}).json
    text = anon.get(urlsplit(feed["url"]).path).get_data(as_text=True)
    assert untimed["id"] not in text and timed["id"] in text
    # It holds no time: another booking of the trust at any time does not conflict with it.
    assert book(trust, iso(future_monday(8, 10))).status_code == 201


def test_untimed_request_is_not_confirmable_and_takes_no_speakers(request_booking, coordinator, create_speaker):
    b = request_booking().json
    r = coordinator.patch(f"/api/v1/bookings/{b['id']}", json={"status": "confirmed"})
    assert r.status_code == 409 and problem(r)
    r = coordinator.patch(f"/api/v1/bookings/{b['id']}", json={"status": "provisional"})
    assert r.status_code == 409
    speaker = create_speaker()
    assert coordinator.put(f"/api/v1/bookings/{b['id']}/speakers/{speaker.id}", json={}).status_code == 409
    assert coordinator.get(f"/api/v1/bookings/{b['id']}").json["status"] == "requested"
    # Cancelling needs no time.
    r = coordinator.patch(f"/api/v1/bookings/{b['id']}", json={"status": "cancelled", "cancel_reason": "No longer"})
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["starts_at"] is None


def test_coordinator_sets_a_time_and_moves_the_status_in_one_patch(request_booking, coordinator, partner):
    b = request_booking().json
    start = future_monday(8, 10)
    r = coordinator.patch(f"/api/v1/bookings/{b['id']}", json={"starts_at": iso(start), "status": "provisional"})
    assert r.status_code == 200, r.json
    assert (r.json["starts_at"], r.json["ends_at"], r.json["status"]) == (
        iso(start), iso(start + timedelta(hours=3)), "provisional")
    assert r.json["sequence"] == 1
    assert r.json["preferred_windows"] == windows(8, 9)
    # Once it has a time, it cannot lose it, and the 12-hour rule applies.
    r = coordinator.patch(f"/api/v1/bookings/{b['id']}", json={"starts_at": None})
    assert r.status_code == 422
    r = coordinator.patch(f"/api/v1/bookings/{b['id']}", json={"ends_at": iso(start + timedelta(hours=13))})
    assert r.status_code == 422
    assert partner.get(f"/api/v1/bookings/{b['id']}/invite.ics").status_code == 200


def test_setting_a_time_checks_conflicts(request_booking, coordinator, trust, book):
    taken = future_monday(8, 10)
    assert book(trust, iso(taken)).status_code == 201
    b = request_booking().json
    r = coordinator.patch(f"/api/v1/bookings/{b['id']}", json={"starts_at": iso(taken + timedelta(hours=1))})
    assert r.status_code == 409 and problem(r)["conflicts"][0]["kind"] == "trust_overlap"
    assert coordinator.get(f"/api/v1/bookings/{b['id']}").json["starts_at"] is None


def test_partner_edits_its_request_and_its_time_must_be_in_the_future(request_booking, partner):
    b = request_booking().json
    r = partner.patch(f"/api/v1/bookings/{b['id']}", json={"preferred_windows": windows(12)})
    assert r.status_code == 200 and r.json["preferred_windows"] == windows(12)
    past = datetime.now(timezone.utc) - timedelta(days=2)
    assert partner.patch(f"/api/v1/bookings/{b['id']}", json={"starts_at": iso(past)}).status_code == 422
    r = partner.patch(f"/api/v1/bookings/{b['id']}", json={"starts_at": iso(future_monday(9))})
    assert r.status_code == 200 and r.json["status"] == "requested"


def test_a_patch_takes_only_whole_windows(request_booking, partner, coordinator):
    b = request_booking().json
    half = [{"from": windows(12)[0]["from"]}]
    for client in (partner, coordinator):
        r = client.patch(f"/api/v1/bookings/{b['id']}", json={"preferred_windows": half}, headers={"If-Match": "*"})
        assert r.status_code == 422, r.json
        assert problem(r)["errors"] == {"preferred_windows.0.to": ["Missing data for required field."]}
    assert coordinator.get(f"/api/v1/bookings/{b['id']}").json["preferred_windows"] == windows(8, 9)


def test_report_leaves_untimed_requests_out(request_booking, coordinator):
    request_booking()
    report = coordinator.get("/api/v1/reports/programme").json
    assert report["bookings_by_status"]["requested"] == 0
    assert report["by_month"] == []
