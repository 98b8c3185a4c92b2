"""The partner's slot finder: by trust and topic, times only (SPEC, Bookings: the partner part of scheduling)."""

from __future__ import annotations

from tests.bookings.conftest import at, book, make_trust, speaker_with, trust  # noqa: F401 (fixtures)
from tests.conftest import problem

WEEKDAYS_9_TO_5 = [(d, "09:00", "17:00") for d in range(5)]
MONDAY = "from=2027-01-11T00:00:00Z&to=2027-01-12T00:00:00Z"  # one Monday (GMT)


def _slots(client, query):
    return client.get("/api/v1/scheduling/slots?" + query)


def _on_topic(coordinator, speaker, slug):
    r = coordinator.patch(f"/api/v1/speakers/{speaker.id}", json={"topics": [slug]})
    assert r.status_code == 200, r.json
    return speaker


def _starts(response):
    assert response.status_code == 200, response.json
    return [s["starts_at"] for s in response.json]


def test_partner_learns_times_only_and_another_partys_booking_of_one_of_two_speakers_changes_nothing(
        partner, coordinator, seeded_topics, trust, make_trust, book, speaker_with):
    first = _on_topic(coordinator, speaker_with("Europe/London", WEEKDAYS_9_TO_5), "cyber-security")
    second = _on_topic(coordinator, speaker_with("Europe/London", WEEKDAYS_9_TO_5), "cyber-security")
    query = f"trust_id={trust.id}&topic=cyber-security&{MONDAY}&duration=180&step=60"

    before = _slots(partner, query)
    assert _starts(before) == [f"2027-01-11T{h:02d}:00:00Z" for h in range(9, 15)]
    for slot in before.json:
        assert set(slot) == {"starts_at", "ends_at", "local_times"} and slot["local_times"] == {}
    text = before.get_data(as_text=True)
    assert first.id not in text and second.id not in text and first.name not in text

    # Another trust's session with the first speaker, 09:00-12:00: the second is free, so nothing changes.
    elsewhere = book(make_trust(), at("2027-01-11", "09:00")).json
    assert coordinator.put(f"/api/v1/bookings/{elsewhere['id']}/speakers/{first.id}", json={}).status_code == 200
    after = _slots(partner, query)
    assert after.json == before.json
    assert elsewhere["id"] not in after.get_data(as_text=True)

    # With both speakers booked then, those times go (the test can fail): only starts from 12:00 remain.
    again = book(make_trust(), at("2027-01-11", "09:00")).json
    assert coordinator.put(f"/api/v1/bookings/{again['id']}/speakers/{second.id}", json={}).status_code == 200
    assert _starts(_slots(partner, query)) == ["2027-01-11T12:00:00Z", "2027-01-11T13:00:00Z",
                                               "2027-01-11T14:00:00Z"]


def test_the_trusts_own_bookings_and_the_topic_narrow_the_answer(partner, coordinator, seeded_topics, trust, book,
                                                                  speaker_with):
    _on_topic(coordinator, speaker_with("Europe/London", [(0, "09:00", "13:00")]), "cyber-security")
    _on_topic(coordinator, speaker_with("Europe/London", [(0, "13:00", "17:00")]), "data")
    base = f"trust_id={trust.id}&{MONDAY}&duration=120&step=60"
    assert _starts(_slots(partner, base + "&topic=cyber-security")) == [
        "2027-01-11T09:00:00Z", "2027-01-11T10:00:00Z", "2027-01-11T11:00:00Z"]
    assert _starts(_slots(partner, base + "&topic=data")) == [
        "2027-01-11T13:00:00Z", "2027-01-11T14:00:00Z", "2027-01-11T15:00:00Z"]
    # Without a topic: any active speaker, one speaker for the whole session (so not 12:00, which spans both).
    assert _starts(_slots(partner, base)) == [f"2027-01-11T{h:02d}:00:00Z" for h in (9, 10, 11, 13, 14, 15)]
    # The trust's own booking (whoever made it) takes its time away.
    book(trust, at("2027-01-11", "09:00"), ends_at=at("2027-01-11", "11:00"))
    assert _starts(_slots(partner, base + "&topic=cyber-security")) == ["2027-01-11T11:00:00Z"]


def test_inactive_speakers_and_unknown_topics(partner, coordinator, seeded_topics, trust, speaker_with):
    _on_topic(coordinator, speaker_with("Europe/London", WEEKDAYS_9_TO_5, active=False), "cyber-security")
    assert _slots(partner, f"trust_id={trust.id}&topic=cyber-security&{MONDAY}").json == []
    r = _slots(partner, f"trust_id={trust.id}&topic=no-such-topic&{MONDAY}")
    assert r.status_code == 422 and "topic" in problem(r)["errors"]


def test_speakers_and_topic_together_are_422_for_coordinators(coordinator, seeded_topics, trust, speaker_with):
    speaker = speaker_with()
    r = _slots(coordinator, f"speaker_ids={speaker.id}&topic=data&trust_id={trust.id}&{MONDAY}")
    assert r.status_code == 422 and "topic" in problem(r)["errors"]


def test_partner_dry_run_check_is_redacted_like_a_409(partner, other_partner, coordinator, trust, make_trust, book,
                                                      speaker_with):
    speaker = speaker_with()
    theirs = book(trust, at("2027-01-11", "09:00")).json  # the programme team's booking of the same trust
    elsewhere = book(make_trust(), at("2027-01-11", "09:00")).json
    coordinator.put(f"/api/v1/bookings/{elsewhere['id']}/speakers/{speaker.id}", json={})
    proposal = {"trust_id": trust.id, "starts_at": at("2027-01-11", "10:00"), "speakers": [{"speaker_id": speaker.id}]}
    r = partner.post("/api/v1/scheduling/check", json=proposal)
    assert r.status_code == 200, r.json
    assert r.json["ok"] is False
    assert sorted(r.json["conflicts"], key=lambda c: c["kind"]) == [
        {"kind": "speaker_overlap", "booking_id": None, "speaker_id": speaker.id},
        {"kind": "trust_overlap", "booking_id": None, "speaker_id": None}]
    text = r.get_data(as_text=True)
    assert theirs["id"] not in text and elsewhere["id"] not in text and "2027-01-11T09:00" not in text
    # A coordinator sees everything.
    full = coordinator.post("/api/v1/scheduling/check", json=proposal).json
    assert {c["booking_id"] for c in full["conflicts"]} == {theirs["id"], elsewhere["id"]}
    # The partner's own booking shows as it is; another partner's booking id is an unknown reference.
    mine = partner.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": "2199-01-05T10:00:00Z"}).json
    r = partner.post("/api/v1/scheduling/check", json={"trust_id": trust.id, "starts_at": "2199-01-05T11:00:00Z"})
    assert r.json["conflicts"][0]["booking_id"] == mine["id"]
    moved = partner.post("/api/v1/scheduling/check", json={"trust_id": trust.id, "booking_id": mine["id"],
                                                           "starts_at": "2199-01-05T11:00:00Z"})
    assert moved.json == {"ok": True, "conflicts": []}
    r = other_partner.post("/api/v1/scheduling/check", json={"trust_id": trust.id, "booking_id": mine["id"],
                                                             "starts_at": "2199-01-05T11:00:00Z"})
    assert r.status_code == 422 and "booking_id" in problem(r)["errors"]
    assert partner.post("/api/v1/scheduling/check", json={**proposal, "override_availability": True}).status_code == 403
