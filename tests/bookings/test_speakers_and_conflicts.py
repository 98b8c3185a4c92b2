"""Speakers on bookings, availability across time zones, overlaps and rescheduling."""

from __future__ import annotations

from tests.bookings.conftest import at
from tests.conftest import problem

WEEKDAYS_9_TO_5 = [(d, "09:00", "17:00") for d in range(5)]


def _speakers_url(booking: dict, speaker) -> str:
    return f"/api/v1/bookings/{booking['id']}/speakers/{speaker.id}"


def test_put_speaker_for_the_whole_booking_or_a_slot(coordinator, trust, book, speaker_with):
    guest = speaker_with(name="Dr Amara Okafor")
    lead = speaker_with(name="Huw Evans")
    r = book(trust, at("2027-01-11", "10:00"))
    b, etag = r.json, r.headers["ETag"]
    whole = coordinator.put(_speakers_url(b, lead), json={"role": "facilitator"})
    assert whole.status_code == 200, whole.json
    assert whole.headers["ETag"] != etag and whole.json["updated_at"] >= b["updated_at"]
    assert whole.json["speakers"] == [{"speaker_id": lead.id, "name": "Huw Evans", "role": "facilitator",
                                       "starts_at": "2027-01-11T10:00:00Z", "ends_at": "2027-01-11T13:00:00Z"}]
    slot = coordinator.put(_speakers_url(b, guest), json={"starts_at": at("2027-01-11", "11:00"),
                                                         "ends_at": at("2027-01-11", "12:00")})
    assert slot.status_code == 200
    assert [(s["name"], s["role"], s["starts_at"]) for s in slot.json["speakers"]] == [
        ("Huw Evans", "facilitator", "2027-01-11T10:00:00Z"), ("Dr Amara Okafor", "guest", "2027-01-11T11:00:00Z")]
    got = coordinator.get(f"/api/v1/bookings/{b['id']}")
    assert got.json == slot.json and got.headers["ETag"] == slot.headers["ETag"]
    outside = coordinator.put(_speakers_url(b, guest), json={"starts_at": at("2027-01-11", "12:00"),
                                                            "ends_at": at("2027-01-11", "13:30")},
                              headers={"If-Match": slot.headers["ETag"]})
    assert outside.status_code == 422
    gone = coordinator.delete(_speakers_url(b, guest), etag=slot.headers["ETag"])
    assert gone.status_code == 204
    after = coordinator.get(f"/api/v1/bookings/{b['id']}")
    assert [s["speaker_id"] for s in after.json["speakers"]] == [lead.id]
    assert after.headers["ETag"] != slot.headers["ETag"]
    assert coordinator.delete(_speakers_url(b, guest)).status_code == 404
    assert coordinator.put(f"/api/v1/bookings/{b['id']}/speakers/00000000-0000-4000-8000-000000000000",
                           json={}).status_code == 404


def test_inactive_speaker_is_422(coordinator, trust, book, speaker_with):
    speaker = speaker_with(active=False)
    b = book(trust, at("2027-01-11", "10:00")).json
    assert coordinator.put(_speakers_url(b, speaker), json={}).status_code == 422


def test_speaker_overlap_across_trusts_is_409_and_back_to_back_is_fine(coordinator, make_trust, book, speaker_with):
    speaker = speaker_with()
    first = book(make_trust(), at("2027-01-11", "10:00")).json
    coordinator.put(_speakers_url(first, speaker), json={})
    clash = book(make_trust(), at("2027-01-11", "12:00")).json
    r = coordinator.put(_speakers_url(clash, speaker), json={})
    assert r.status_code == 409
    assert problem(r)["conflicts"] == [{"kind": "speaker_overlap", "booking_id": first["id"], "speaker_id": speaker.id,
                                        "starts_at": "2027-01-11T10:00:00Z", "ends_at": "2027-01-11T13:00:00Z"}]
    # A slot in the second booking that starts when the first ends is fine.
    ok = coordinator.put(_speakers_url(clash, speaker), json={"starts_at": at("2027-01-11", "13:00"),
                                                             "ends_at": at("2027-01-11", "14:00")})
    assert ok.status_code == 200, ok.json


def test_sydney_speaker_availability_is_in_sydney_time(coordinator, make_trust, book, speaker_with):
    sydney = speaker_with("Australia/Sydney", WEEKDAYS_9_TO_5)
    morning = book(make_trust(), at("2027-01-11", "10:00")).json  # 21:00 in Sydney
    r = coordinator.put(_speakers_url(morning, sydney), json={})
    assert r.status_code == 409
    assert problem(r)["conflicts"] == [{"kind": "outside_availability", "booking_id": morning["id"],
                                        "speaker_id": sydney.id, "starts_at": "2027-01-11T10:00:00Z",
                                        "ends_at": "2027-01-11T13:00:00Z"}]
    evening = book(make_trust(), at("2027-01-11", "22:00")).json  # Tuesday 09:00-12:00 in Sydney
    assert coordinator.put(_speakers_url(evening, sydney), json={}).status_code == 200
    forced = coordinator.put(_speakers_url(morning, sydney), json={"override_availability": True})
    assert forced.status_code == 200  # the organiser may agree an evening with the speaker


def test_override_availability_allows_a_slot_outside_the_week(coordinator, trust, book, speaker_with):
    sydney = speaker_with("Australia/Sydney", WEEKDAYS_9_TO_5)
    b = book(trust, at("2027-01-11", "10:00")).json
    r = coordinator.put(_speakers_url(b, sydney), json={"override_availability": True})
    assert r.status_code == 200 and r.json["speakers"][0]["speaker_id"] == sydney.id


def test_reschedule_moves_slots_and_rechecks(coordinator, make_trust, book, speaker_with):
    london = speaker_with("Europe/London", WEEKDAYS_9_TO_5)
    whole = speaker_with()
    trust = make_trust()
    b = book(trust, at("2027-01-11", "10:00")).json
    url = f"/api/v1/bookings/{b['id']}"
    coordinator.put(_speakers_url(b, london), json={"starts_at": at("2027-01-11", "11:00"),
                                                   "ends_at": at("2027-01-11", "12:00")})
    coordinator.put(_speakers_url(b, whole), json={"role": "facilitator"})
    moved = coordinator.patch(url, json={"starts_at": at("2027-01-12", "13:00")})
    assert moved.status_code == 200, moved.json
    slots = {s["speaker_id"]: (s["starts_at"], s["ends_at"]) for s in moved.json["speakers"]}
    assert slots == {london.id: ("2027-01-12T14:00:00Z", "2027-01-12T15:00:00Z"),
                     whole.id: ("2027-01-12T13:00:00Z", "2027-01-12T16:00:00Z")}
    # Shortening so the own slot falls outside is 422 on speakers.
    short = coordinator.patch(url, json={"ends_at": at("2027-01-12", "14:30")})
    assert short.status_code == 422 and "speakers" in problem(short)["errors"]
    # Moving the London speaker's slot to 16:30-17:30 local runs past their 17:00.
    late = coordinator.patch(url, json={"starts_at": at("2027-01-12", "15:30")})
    assert late.status_code == 409
    assert [(c["kind"], c["speaker_id"], c["booking_id"]) for c in problem(late)["conflicts"]] == [
        ("outside_availability", london.id, b["id"])]
    forced = coordinator.patch(url, json={"starts_at": at("2027-01-12", "15:30"), "override_availability": True})
    assert forced.status_code == 200
    # Another booking holding the whole-booking speaker blocks a move onto it.
    other = book(make_trust(), at("2027-01-13", "10:00")).json
    coordinator.put(_speakers_url(other, whole), json={})
    blocked = coordinator.patch(url, json={"starts_at": at("2027-01-13", "09:00"), "override_availability": True})
    assert blocked.status_code == 409
    assert [(c["kind"], c["booking_id"]) for c in problem(blocked)["conflicts"]] == [("speaker_overlap", other["id"])]
    # And the trust's own other booking blocks too.
    mine = book(trust, at("2027-01-14", "10:00")).json
    trust_clash = coordinator.patch(url, json={"starts_at": at("2027-01-14", "12:00"), "override_availability": True})
    assert [(c["kind"], c["booking_id"]) for c in problem(trust_clash)["conflicts"]] == [("trust_overlap", mine["id"])]
    assert coordinator.get(url).json["starts_at"] == "2027-01-12T15:30:00Z"


def test_cancelled_bookings_do_not_block_speakers(coordinator, make_trust, book, speaker_with):
    speaker = speaker_with()
    first = book(make_trust(), at("2027-01-11", "10:00")).json
    coordinator.put(_speakers_url(first, speaker), json={})
    coordinator.patch(f"/api/v1/bookings/{first['id']}", json={"status": "cancelled"})
    second = book(make_trust(), at("2027-01-11", "10:00")).json
    assert coordinator.put(_speakers_url(second, speaker), json={}).status_code == 200
