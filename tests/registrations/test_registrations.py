"""Masterclasses: capacity, registrations and the waiting list, attendee overlap, partners' registrations."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from tests.conftest import problem
from tests.registrations.conftest import SOON, _class, _member, _ok, _register, iso


def test_done_when_a_coordinator_fills_a_class_and_the_waiting_list_moves_up(coordinator, partner, trusts):
    five = trusts(5)
    course = _class(coordinator, capacity=20, status="confirmed")
    assert course["trust_id"] is None
    assert (course["capacity"], course["registered_count"], course["waitlisted_count"], course["seats_left"]) == \
        (20, 0, 0, 20)
    places = []
    for n in range(21):
        contact = _member(coordinator, five[n % 5], n)
        places.append(_ok(_register(coordinator, course["id"], {"contact_id": contact["id"]}), 201))
    assert [p["status"] for p in places] == ["registered"] * 20 + ["waitlisted"]
    assert [p["position"] for p in places] == list(range(1, 22))
    assert {p["trust_id"] for p in places} == {t["id"] for t in five}
    seen = _ok(coordinator.get(f"/api/v1/bookings/{course['id']}"))
    assert (seen["registered_count"], seen["waitlisted_count"], seen["seats_left"]) == (20, 1, 0)

    cancelled = _ok(coordinator.patch(f"/api/v1/registrations/{places[3]['id']}", json={"status": "cancelled"}))
    assert cancelled["status"] == "cancelled"
    assert _ok(coordinator.get(f"/api/v1/registrations/{places[20]['id']}"))["status"] == "registered"
    seen = _ok(coordinator.get(f"/api/v1/bookings/{course['id']}"))
    assert (seen["registered_count"], seen["waitlisted_count"], seen["seats_left"]) == (20, 0, 0)

    # A partner sees the class, registers one of its own members and reads the seats left.
    listed = _ok(partner.get("/api/v1/bookings?kind=masterclass"))
    assert [b["id"] for b in listed] == [course["id"]] and listed[0]["seats_left"] == 0
    # Three more seats: the next on the waiting list moves up into one.
    late = _ok(_register(coordinator, course["id"], {"contact_id": _member(coordinator, five[1], 99)["id"]}), 201)
    assert late["status"] == "waitlisted"
    r = coordinator.patch(f"/api/v1/bookings/{course['id']}", json={"capacity": 19})
    assert r.status_code == 409
    grown = _ok(coordinator.patch(f"/api/v1/bookings/{course['id']}", json={"capacity": 23}))
    assert (grown["registered_count"], grown["waitlisted_count"], grown["seats_left"]) == (21, 0, 2)
    assert _ok(coordinator.get(f"/api/v1/registrations/{late['id']}"))["status"] == "registered"
    assert coordinator.get(f"/api/v1/bookings/{course['id']}").headers["ETag"] == \
        coordinator.get(f"/api/v1/bookings/{course['id']}").headers["ETag"]
    own = _ok(_register(partner, course["id"], {"trust_id": five[0]["id"], "name": "Alex Partner-Member",
                                                "email": "Alex.Member@example.nhs.uk", "role": "Chair"}), 201)
    assert own["status"] == "registered" and "contact_id" not in own and "partner_id" not in own
    assert (own["name"], own["email"]) == ("Alex Partner-Member", "Alex.Member@example.nhs.uk")
    assert _ok(partner.get(f"/api/v1/bookings/{course['id']}"))["seats_left"] == 1


def test_capacity_range_and_trust_rules(coordinator, trusts):
    (trust,) = trusts(1)
    for capacity in (0, 501, "10"):
        r = coordinator.post("/api/v1/bookings", json={"kind": "masterclass", "starts_at": iso(SOON), "capacity": capacity})
        assert r.status_code == 422 and "capacity" in problem(r)["errors"]
    assert _class(coordinator, capacity=None)["capacity"] == 30
    r = coordinator.post("/api/v1/bookings", json={"starts_at": iso(SOON)})
    assert r.status_code == 422 and "trust_id" in problem(r)["errors"]
    r = coordinator.post("/api/v1/bookings", json={"trust_id": trust["id"], "starts_at": iso(SOON), "capacity": 5})
    assert r.status_code == 422 and "capacity" in problem(r)["errors"]
    session = _ok(coordinator.post("/api/v1/bookings", json={"trust_id": trust["id"], "starts_at": iso(SOON)}), 201)
    assert (session["capacity"], session["seats_left"], session["registered_count"]) == (None, None, None)
    # The trust overlap rule does not apply to a class for that trust's board.
    _class(coordinator, trust_id=trust["id"])
    r = _register(coordinator, session["id"], {"contact_id": _member(coordinator, trust, 1)["id"]})
    assert r.status_code == 409


def test_a_person_registers_once_and_overlapping_events_conflict(coordinator, trusts):
    (trust,) = trusts(1)
    person = _member(coordinator, trust, 1)
    first = _class(coordinator, capacity=1)
    second = _class(coordinator, capacity=5, starts_at=SOON + timedelta(hours=1))
    _ok(_register(coordinator, first["id"], {"contact_id": person["id"]}), 201)
    again = _register(coordinator, first["id"], {"contact_id": person["id"]})
    assert again.status_code == 409
    clash = _register(coordinator, second["id"], {"contact_id": person["id"]})
    body = problem(clash)
    assert clash.status_code == 409
    assert body["conflicts"][0]["kind"] == "attendee_overlap" and body["conflicts"][0]["booking_id"] == first["id"]
    # A board session they attend overlaps too.
    board = coordinator.post("/api/v1/bookings", json={"trust_id": trust["id"], "starts_at": iso(SOON),
                                                        "attendee_ids": [person["id"]]})
    assert board.status_code == 409 and problem(board)["conflicts"][0]["kind"] == "attendee_overlap"
    # Joining a waiting list never conflicts; moving up skips anyone who would then overlap.
    other = _member(coordinator, trust, 2)
    full = _class(coordinator, capacity=1, starts_at=SOON + timedelta(minutes=30))
    holder = _ok(_register(coordinator, full["id"], {"contact_id": other["id"]}), 201)
    waiting = _ok(_register(coordinator, full["id"], {"contact_id": person["id"]}), 201)
    third = _member(coordinator, trust, 3)
    later = _ok(_register(coordinator, full["id"], {"contact_id": third["id"]}), 201)
    assert (waiting["status"], later["status"]) == ("waitlisted", "waitlisted")
    _ok(coordinator.patch(f"/api/v1/registrations/{holder['id']}", json={"status": "cancelled"}))
    assert _ok(coordinator.get(f"/api/v1/registrations/{waiting['id']}"))["status"] == "waitlisted"
    assert _ok(coordinator.get(f"/api/v1/registrations/{later['id']}"))["status"] == "registered"


def test_status_changes_attendance_and_a_cancelled_place_coming_back(coordinator, trusts):
    (trust,) = trusts(1)
    a, b = _member(coordinator, trust, 1), _member(coordinator, trust, 2)
    past = _class(coordinator, capacity=1, starts_at=SOON - timedelta(days=60), status="confirmed")
    pa = _ok(_register(coordinator, past["id"], {"contact_id": a["id"]}), 201)
    pb = _ok(_register(coordinator, past["id"], {"contact_id": b["id"]}), 201)
    assert pb["status"] == "waitlisted"
    r = coordinator.patch(f"/api/v1/registrations/{pb['id']}", json={"status": "registered"})
    assert r.status_code == 409
    r = coordinator.patch(f"/api/v1/registrations/{pb['id']}", json={"status": "attended"})
    assert r.status_code == 409 and "allowed" in problem(r)
    assert _ok(coordinator.patch(f"/api/v1/registrations/{pa['id']}", json={"status": "attended"}))["status"] == "attended"
    assert _ok(coordinator.patch(f"/api/v1/registrations/{pa['id']}", json={"status": "no_show"}))["status"] == "no_show"
    r = coordinator.patch(f"/api/v1/registrations/{pa['id']}", json={"status": "waitlisted"})
    assert r.status_code == 422
    future = _class(coordinator, capacity=1)
    fa = _ok(_register(coordinator, future["id"], {"contact_id": a["id"]}), 201)
    r = coordinator.patch(f"/api/v1/registrations/{fa['id']}", json={"status": "attended"})
    assert r.status_code == 409
    _ok(coordinator.patch(f"/api/v1/registrations/{fa['id']}", json={"status": "cancelled"}))
    fb = _ok(_register(coordinator, future["id"], {"contact_id": b["id"]}), 201)
    assert fb["status"] == "registered"
    back = _ok(coordinator.patch(f"/api/v1/registrations/{fa['id']}", json={"status": "registered"}))
    assert back["status"] == "waitlisted" and back["position"] == 3


def test_registrations_move_the_booking_etag_without_booking_updated(coordinator, trusts, db):
    from sqlalchemy import select

    from api.outbox import OutboxEvent

    (trust,) = trusts(1)
    course = _class(coordinator)
    before = coordinator.get(f"/api/v1/bookings/{course['id']}")
    place = _ok(_register(coordinator, course["id"], {"contact_id": _member(coordinator, trust, 1)["id"]}), 201)
    after = coordinator.get(f"/api/v1/bookings/{course['id']}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert after.json["registered_count"] == 1 and after.json["updated_at"] >= before.json["updated_at"]
    types = db().scalars(select(OutboxEvent.type).where(OutboxEvent.entity_id.in_([course["id"], place["id"]]))).all()
    assert sorted(types) == ["booking.created", "registration.changed"]
    events = _ok(coordinator.get(f"/api/v1/audit-events?entity_type=registration&entity_id={place['id']}"))
    assert [e["action"] for e in events] == ["create"]


def test_partner_scope_registrations_and_webhook(coordinator, partner, other_partner, trusts, db):
    from sqlalchemy import select

    from api.outbox import OutboxEvent
    from api.webhooks.dispatch import data_for
    from api.webhooks.models import WebhookEndpoint

    (trust,) = trusts(1)
    existing = _member(coordinator, trust, 7)
    course = _class(coordinator, capacity=3)
    own = _ok(partner.post("/api/v1/bookings", json={"kind": "masterclass", "starts_at": iso(SOON + timedelta(days=1)),
                                                     "capacity": 12}), 201)
    assert own["status"] == "requested" and own["capacity"] == 12
    assert other_partner.get(f"/api/v1/bookings/{own['id']}").status_code == 404
    assert other_partner.get(f"/api/v1/bookings/{course['id']}").status_code == 200

    r = _register(partner, course["id"], {"contact_id": existing["id"]})
    assert r.status_code == 403
    mine = _ok(_register(partner, course["id"], {"trust_id": trust["id"], "name": "Given Name",
                                                 "email": existing["email"].upper(), "role": "Chair"}), 201)
    contact = _ok(coordinator.get(f"/api/v1/contacts/{existing['id']}"))
    assert contact["name"] == "Member 7" and contact["role"] == "Non-executive Director"  # left unchanged
    full = _ok(coordinator.get(f"/api/v1/registrations/{mine['id']}"))
    assert full["contact_id"] == existing["id"] and full["name"] == "Given Name"
    added = _ok(_register(partner, course["id"], {"trust_id": trust["id"], "name": "New Person",
                                                  "email": "new.person@example.nhs.uk"}), 201)
    contacts = _ok(coordinator.get(f"/api/v1/trusts/{trust['id']}/contacts"))
    assert "New Person" in {c["name"] for c in contacts}
    coordinator_made = _ok(_register(coordinator, course["id"], {"contact_id": _member(coordinator, trust, 8)["id"]}), 201)

    listed = _ok(partner.get(f"/api/v1/bookings/{course['id']}/registrations"))
    assert [x["id"] for x in listed] == [mine["id"], added["id"]]
    assert all("contact_id" not in x for x in listed)
    assert _ok(other_partner.get(f"/api/v1/bookings/{course['id']}/registrations")) == []
    assert partner.get(f"/api/v1/registrations/{coordinator_made['id']}").status_code == 404
    assert other_partner.get(f"/api/v1/registrations/{mine['id']}").status_code == 404
    r = partner.patch(f"/api/v1/registrations/{mine['id']}", json={"status": "attended"})
    assert r.status_code == 403
    assert _ok(partner.patch(f"/api/v1/registrations/{mine['id']}", json={"status": "cancelled"}))["status"] == "cancelled"

    event = db().scalars(select(OutboxEvent).where(OutboxEvent.entity_id == mine["id"])
                         .order_by(OutboxEvent.occurred_at)).all()[-1]
    assert event.type == "registration.changed" and event.partner_id == full["partner_id"]
    hook = WebhookEndpoint(partner_id=full["partner_id"], url="https://example.org/h", events=["registration.changed"])
    data = data_for(hook, event.type, event.payload)
    assert data["status"] == "cancelled" and data["previous_status"] == "registered" and "contact_id" not in data

    text = partner.get(f"/api/v1/bookings/{course['id']}/registrations?status=cancelled",
                       headers={"Accept": "text/csv"})
    assert text.status_code == 200 and text.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True))))
    assert [row["id"] for row in rows] == [mine["id"]] and "contact_id" not in rows[0]


def test_partner_invite_names_participants_without_addresses(coordinator, partner, trusts):
    (trust,) = trusts(1)
    course = _class(coordinator, capacity=3)
    person = _member(coordinator, trust, 4)
    _ok(_register(coordinator, course["id"], {"contact_id": person["id"]}), 201)
    full = coordinator.get(f"/api/v1/bookings/{course['id']}/invite.ics").get_data(as_text=True)
    assert person["email"] in full and "Member 4" in full
    seen = partner.get(f"/api/v1/bookings/{course['id']}/invite.ics").get_data(as_text=True)
    assert "Member 4" in seen and person["email"] not in seen and person["id"] not in seen


def test_trust_feed_shows_classes_its_people_are_registered_for(coordinator, client, trusts):
    one, two = trusts(2)
    course = _class(coordinator, capacity=3, title="Cohort class X")
    _ok(_register(coordinator, course["id"], {"contact_id": _member(coordinator, one, 1)["id"]}), 201)
    feed = _ok(coordinator.post("/api/v1/feeds", json={"scope": "trust", "trust_id": one["id"]}), 201)
    other = _ok(coordinator.post("/api/v1/feeds", json={"scope": "trust", "trust_id": two["id"]}), 201)
    assert "Cohort class X" in client.get(f"/feeds/{feed['token']}.ics").get_data(as_text=True)
    assert "Cohort class X" not in client.get(f"/feeds/{other['token']}.ics").get_data(as_text=True)


def test_export_and_erasure_of_a_registered_person(coordinator, partner, trusts, db):
    (trust,) = trusts(1)
    course = _class(coordinator, capacity=3)
    place = _ok(_register(partner, course["id"], {"trust_id": trust["id"], "name": "Robin Erase",
                                                  "email": "robin@example.nhs.uk"}), 201)
    contact_id = _ok(coordinator.get(f"/api/v1/registrations/{place['id']}"))["contact_id"]
    export = _ok(coordinator.get(f"/api/v1/contacts/{contact_id}/export"))
    assert [r["id"] for r in export["registrations"]] == [place["id"]]
    _ok(coordinator.post(f"/api/v1/contacts/{contact_id}/erase"))
    seen = _ok(partner.get(f"/api/v1/registrations/{place['id']}"))
    assert (seen["name"], seen["email"], seen["status"]) == (None, None, "registered")
    assert _ok(coordinator.get(f"/api/v1/bookings/{course['id']}"))["registered_count"] == 1
    trail = coordinator.get(f"/api/v1/audit-events?entity_type=registration&entity_id={place['id']}")
    assert trail.status_code == 200 and "Robin Erase" not in trail.get_data(as_text=True)
    from api.outbox import OutboxEvent
    from sqlalchemy import select
    payloads = db().scalars(select(OutboxEvent.payload).where(OutboxEvent.entity_id == place["id"])).all()
    assert payloads and "robin@example.nhs.uk" not in str(payloads) and "Robin Erase" not in str(payloads)


def test_bad_input_is_a_clear_problem(coordinator, trusts):
    course = _class(coordinator)
    for body in ({}, {"contact_id": "nope"}, {"trust_id": trusts(1)[0]["id"], "name": "X"},
                 {"contact_id": "0b6f1c9e-7d1a-4a53-9d51-2f6f0f4c7a10"}, {"status": "registered"}):
        r = _register(coordinator, course["id"], body)
        assert r.status_code == 422, (body, r.get_data(as_text=True))
    assert coordinator.get("/api/v1/registrations/not-an-id").status_code == 404
    assert coordinator.get(f"/api/v1/bookings/{course['id']}/registrations?status=bogus").status_code == 422
    assert coordinator.patch("/api/v1/registrations/0b6f1c9e-7d1a-4a53-9d51-2f6f0f4c7a10",
                             json={"status": "cancelled"}).status_code == 404


def test_report_masterclasses_section_and_csv(coordinator, trusts):
    north = trusts(2, region="north_west")
    (london,) = trusts(1)
    held = _class(coordinator, capacity=3, starts_at=datetime(2025, 5, 6, 10, tzinfo=UTC), status="confirmed")
    people = [_member(coordinator, t, n) for n, t in enumerate([*north, london, london])]
    places = [_ok(_register(coordinator, held["id"], {"contact_id": p["id"]}), 201) for p in people]
    assert [p["status"] for p in places] == ["registered"] * 3 + ["waitlisted"]
    _ok(coordinator.patch(f"/api/v1/registrations/{places[0]['id']}", json={"status": "attended"}))
    _ok(coordinator.patch(f"/api/v1/registrations/{places[1]['id']}", json={"status": "no_show"}))
    _class(coordinator, capacity=3, starts_at=datetime(2025, 5, 7, 10, tzinfo=UTC), status="cancelled")
    report = _ok(coordinator.get("/api/v1/reports/programme?from=2025-05-01&to=2025-05-31"))
    section = report["masterclasses"]
    assert {k: v for k, v in section.items() if k != "by_region"} == {
        "classes": 1, "registrations": 3, "attended": 1, "no_shows": 1, "trusts_reached": 3}
    assert section["by_region"]["north_west"] == {"registrations": 2, "attended": 1, "no_shows": 1, "trusts_reached": 2}
    assert section["by_region"]["london"] == {"registrations": 1, "attended": 0, "no_shows": 0, "trusts_reached": 1}
    assert _ok(coordinator.get("/api/v1/reports/programme?from=2025-06-01"))["masterclasses"]["classes"] == 0
    assert _ok(coordinator.get(f"/api/v1/trusts/{north[0]['id']}"))["engagement"]["classes_attended"] == 1
    assert _ok(coordinator.get(f"/api/v1/trusts/{london['id']}"))["engagement"]["classes_attended"] == 0
    text = coordinator.get("/api/v1/reports/programme?from=2025-05-01&to=2025-05-31",
                           headers={"Accept": "text/csv"}).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"section": "masterclasses", "key": "all", "metric": "trusts_reached", "value": "3"} in rows
    assert {"section": "masterclasses_by_region", "key": "north_west", "metric": "attended", "value": "1"} in rows


def test_moving_a_class_or_adding_an_attendee_checks_the_people_in_it(coordinator, partner, trusts):
    (trust,) = trusts(1)
    person = _member(coordinator, trust, 1)
    first = _class(coordinator, capacity=2)
    later = _class(coordinator, capacity=2, starts_at=SOON + timedelta(days=1))
    _ok(_register(coordinator, first["id"], {"contact_id": person["id"]}), 201)
    _ok(_register(coordinator, later["id"], {"contact_id": person["id"]}), 201)
    moved = coordinator.patch(f"/api/v1/bookings/{later['id']}", json={"starts_at": iso(SOON + timedelta(hours=1))})
    assert moved.status_code == 409
    assert [c["kind"] for c in problem(moved)["conflicts"]] == ["attendee_overlap"]
    board = _ok(coordinator.post("/api/v1/bookings", json={"trust_id": trust["id"],
                                                          "starts_at": iso(SOON + timedelta(hours=2))}), 201)
    r = coordinator.patch(f"/api/v1/bookings/{board['id']}", json={"attendee_ids": [person["id"]]})
    assert r.status_code == 409 and problem(r)["conflicts"][0]["booking_id"] == first["id"]
    # Once the class is cancelled the person's time is free again.
    _ok(coordinator.patch(f"/api/v1/bookings/{first['id']}", json={"status": "cancelled"}))
    _ok(coordinator.patch(f"/api/v1/bookings/{board['id']}", json={"attendee_ids": [person["id"]]}))
    r = _register(coordinator, first["id"], {"contact_id": _member(coordinator, trust, 2)["id"]})
    assert r.status_code == 409  # a cancelled class takes no registrations
