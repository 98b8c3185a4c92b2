"""Speakers and their availability, as clients see them."""

from __future__ import annotations

from tests.conftest import problem

SPEAKER = {"name": "Dr Amara Okafor", "email": "amara@example.org", "phone": "+61 2 9000 0000",
           "organisation": "Sydney Local Health District", "timezone": "Australia/Sydney",
           "bio": "Chief Clinical Information Officer."}
WEEKLY = [{"weekday": 0, "start_time": "09:00", "end_time": "17:30"},
          {"weekday": 2, "start_time": "18:00", "end_time": "24:00"}]


def test_timezone_is_required_and_must_be_iana(coordinator):
    missing = coordinator.post("/api/v1/speakers", json={k: v for k, v in SPEAKER.items() if k != "timezone"})
    assert missing.status_code == 422 and "timezone" in problem(missing)["errors"]
    wrong = coordinator.post("/api/v1/speakers", json={**SPEAKER, "timezone": "Sydney"})
    assert wrong.status_code == 422 and "timezone" in problem(wrong)["errors"]
    ok = coordinator.post("/api/v1/speakers", json=SPEAKER)
    assert ok.status_code == 201 and ok.json["timezone"] == "Australia/Sydney" and ok.headers["ETag"]


def test_partner_sees_public_profile_only(coordinator, partner, seeded_topics):
    r = coordinator.post("/api/v1/speakers", json={**SPEAKER, "topics": ["data"]})
    assert r.status_code == 201, r.json
    url = r.headers["Location"]
    full = coordinator.get(url).json
    assert full["email"] == SPEAKER["email"] and full["phone"] == SPEAKER["phone"]
    public = partner.get(url)
    assert public.status_code == 200
    assert "email" not in public.json and "phone" not in public.json
    assert public.json["name"] == SPEAKER["name"] and public.json["topics"] == ["data"]
    assert public.json["timezone"] == "Australia/Sydney" and public.json["bio"] == SPEAKER["bio"]
    assert public.headers["ETag"] != coordinator.get(url).headers["ETag"]
    listed = partner.get("/api/v1/speakers").json
    assert listed and all("email" not in s and "phone" not in s for s in listed)
    assert SPEAKER["email"] not in partner.get("/api/v1/speakers").get_data(as_text=True)
    assert partner.post("/api/v1/speakers", json=SPEAKER).status_code == 403
    assert partner.get(url + "/availability").status_code == 403


def test_availability_round_trip_with_24_00(coordinator, viewer):
    url = coordinator.post("/api/v1/speakers", json=SPEAKER).headers["Location"] + "/availability"
    body = {"weekly": WEEKLY, "exceptions": [
        {"starts_at": "2026-12-21T00:00:00+11:00", "ends_at": "2027-01-04T00:00:00+11:00", "available": False},
        {"starts_at": "2026-12-08T08:00:00Z", "ends_at": "2026-12-08T10:00:00Z", "available": True}]}
    put = coordinator.put(url, json=body)
    assert put.status_code == 200, put.json
    got = viewer.get(url)
    assert got.status_code == 200
    assert got.json["timezone"] == "Australia/Sydney"
    assert got.json["weekly"] == WEEKLY
    assert got.json["exceptions"] == [  # in time order, in UTC
        {"starts_at": "2026-12-08T08:00:00Z", "ends_at": "2026-12-08T10:00:00Z", "available": True},
        {"starts_at": "2026-12-20T13:00:00Z", "ends_at": "2027-01-03T13:00:00Z", "available": False}]
    assert viewer.get(url, headers={"If-None-Match": got.headers["ETag"]}).status_code == 304
    assert viewer.put(url, json=body).status_code == 403
    cleared = coordinator.put(url, json={"weekly": [], "exceptions": []}, headers={"If-Match": got.headers["ETag"]})
    assert cleared.status_code == 200 and coordinator.get(url).json["weekly"] == []


def test_availability_rejects_windows_crossing_midnight_and_bad_exceptions(coordinator):
    url = coordinator.post("/api/v1/speakers", json=SPEAKER).headers["Location"] + "/availability"
    cases = [
        {"weekly": [{"weekday": 1, "start_time": "22:00", "end_time": "02:00"}]},
        {"weekly": [{"weekday": 1, "start_time": "24:00", "end_time": "24:00"}]},
        {"weekly": [{"weekday": 7, "start_time": "09:00", "end_time": "10:00"}]},
        {"weekly": [{"weekday": 1, "start_time": "9:00", "end_time": "10:00"}]},
        {"exceptions": [{"starts_at": "2026-12-08T10:00:00Z", "ends_at": "2026-12-08T09:00:00Z"}]},
        {"exceptions": [{"starts_at": "2026-12-08T10:00:00", "ends_at": "2026-12-08T12:00:00Z"}]},
    ]
    for body in cases:
        r = coordinator.put(url, json=body)
        assert r.status_code == 422, body
        assert problem(r)["errors"], body
    crossing = problem(coordinator.put(url, json=cases[0]))["errors"]
    assert any(key.startswith("weekly") for key in crossing)
    assert coordinator.get(url).json["weekly"] == []


def test_available_from_to_filter(coordinator):
    def speaker(name, tz, availability):
        r = coordinator.post("/api/v1/speakers", json={"name": name, "timezone": tz})
        assert r.status_code == 201
        assert coordinator.put(r.headers["Location"] + "/availability", json=availability).status_code == 200
        return r.json["id"]

    # Monday 7 December 2026, 10:00-12:00 UTC (GMT in London, 21:00-23:00 in Sydney).
    london = speaker("London Monday", "Europe/London",
                     {"weekly": [{"weekday": 0, "start_time": "09:00", "end_time": "17:30"}]})
    speaker("Sydney Monday", "Australia/Sydney", {"weekly": [{"weekday": 0, "start_time": "09:00", "end_time": "17:00"}]})
    always = speaker("Always", "America/New_York", {"weekly": []})
    speaker("Away", "Europe/London", {"weekly": [], "exceptions": [
        {"starts_at": "2026-12-07T11:00:00Z", "ends_at": "2026-12-07T11:30:00Z", "available": False}]})
    extra = speaker("Extra time", "Europe/London", {
        "weekly": [{"weekday": 1, "start_time": "09:00", "end_time": "17:00"}],
        "exceptions": [{"starts_at": "2026-12-07T09:00:00Z", "ends_at": "2026-12-07T13:00:00Z", "available": True}]})
    r = coordinator.get("/api/v1/speakers", query_string={"available_from": "2026-12-07T10:00:00Z",
                                                          "available_to": "2026-12-07T12:00:00Z"})
    assert r.status_code == 200
    assert {s["id"] for s in r.json} == {london, always, extra}
    half = coordinator.get("/api/v1/speakers", query_string={"available_from": "2026-12-07T10:00:00Z"})
    assert half.status_code == 422 and problem(half)["errors"]
    naive = coordinator.get("/api/v1/speakers", query_string={"available_from": "2026-12-07T10:00:00",
                                                              "available_to": "2026-12-07T12:00:00Z"})
    assert naive.status_code == 422


def test_patch_speaker_with_if_match(coordinator):
    r = coordinator.post("/api/v1/speakers", json=SPEAKER)
    url, etag = r.headers["Location"], r.headers["ETag"]
    assert coordinator.patch(url, json={"active": False}, etag=None).status_code == 428
    ok = coordinator.patch(url, json={"active": False}, etag=etag)
    assert ok.status_code == 200 and ok.json["active"] is False
    assert coordinator.patch(url, json={"active": True}, etag=etag).status_code == 412
    assert coordinator.patch(url, json={"timezone": "Mars/Base"}).status_code == 422


def test_replacing_availability_needs_if_match(coordinator):
    url = coordinator.post("/api/v1/speakers", json=SPEAKER).headers["Location"] + "/availability"
    first = coordinator.put(url, json={"weekly": WEEKLY})  # the first PUT needs none
    assert first.status_code == 200, first.json
    assert problem(coordinator.put(url, json={"weekly": []}))["status"] == 428
    assert problem(coordinator.put(url, json={"weekly": []}, headers={"If-Match": '"stale"'}))["status"] == 412
    assert coordinator.get(url).json["weekly"] == WEEKLY
    replaced = coordinator.put(url, json={"weekly": WEEKLY[:1]}, headers={"If-Match": first.headers["ETag"]})
    assert replaced.status_code == 200 and replaced.json["weekly"] == WEEKLY[:1]
    assert coordinator.put(url, json={"weekly": []}, headers={"If-Match": "*"}).status_code == 200


def test_a_partner_is_not_shown_who_is_busy_with_someone_elses_session(coordinator, partner, create_trust):
    trust = create_trust()
    busy = coordinator.post("/api/v1/speakers", json={**SPEAKER, "name": "Busy Elsewhere"}).json
    free = coordinator.post("/api/v1/speakers", json={**SPEAKER, "name": "Free All Day", "email": None}).json
    b = coordinator.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": "2027-03-01T10:00:00Z"}).json
    assert coordinator.put(f"/api/v1/bookings/{b['id']}/speakers/{busy['id']}", json={}).status_code == 200
    query = "/api/v1/speakers?available_from=2027-03-01T09:00:00Z&available_to=2027-03-01T17:00:00Z"
    assert [s["id"] for s in coordinator.get(query).json] == [free["id"]]
    # To a partner, the programme team's session is invisible: both speakers are listed alike.
    assert sorted(s["id"] for s in partner.get(query).json) == sorted([busy["id"], free["id"]])
