"""Invitation emails end to end: booking changes through the API, sent by the worker to a real SMTP server,
each message read back with the ``email`` package and its calendar with four independent parsers."""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar

from tests.mail.conftest import future, messages_of


def parts(received):
    """(the message, its text/calendar alternative as bytes, method, the invite.ics attachment as bytes)."""
    message = received.message
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, calendar = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_content().strip()
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_content_charset().lower() == "utf-8"
    assert attachment.get_filename() == "invite.ics" and attachment.get_content_type() == "text/calendar"
    ics = calendar.get_content().encode("utf-8").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    attached = attachment.get_payload(decode=True)
    assert attached == ics
    return message, ics, calendar.get_param("method"), attached


def check(received, parse_all, *, method: str, booking: dict):
    """One message: From, To, Message-ID; one VEVENT with only the recipient as ATTENDEE, read alike by four parsers."""
    message, ics, part_method, _ = parts(received)
    assert part_method == method
    assert message["From"].addresses[0].addr_spec == "programme@boardroom.example"
    [to] = message["To"].addresses
    assert received.recipients == [to.addr_spec]
    assert message["Message-ID"]
    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["METHOD"]) == method
    [event] = calendar.walk("VEVENT")
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == [f"mailto:{to.addr_spec}"]
    assert str(event["ORGANIZER"]) == "mailto:programme@boardroom.example"
    start = booking["starts_at"]
    for parser, events in parse_all(ics).items():
        [parsed] = events
        assert parsed["uid"] == f"{booking['id']}@boardroom", parser
        assert parsed["sequence"] == booking["sequence"], parser
        assert parsed["start_utc"] == start and parsed["end_utc"] == booking["ends_at"], parser
        assert parsed["status"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED"), parser
    return to.addr_spec


def by_address(smtp_server):
    return sorted(r.recipients[0] for r in smtp_server.received)


CONTACTS = ["ada@example.nhs.uk", "ben@example.nhs.uk", "sian@example.nhs.uk"]


def test_confirm_swap_reschedule_cancel_each_send_exactly_the_right_messages(
        coordinator, confirmed_booking, people, smtp_server, send_mail, parse_all):
    booking = confirmed_booking()
    url = f"/api/v1/bookings/{booking['id']}"
    send_mail()
    everyone = sorted(CONTACTS + ["amara@example.org", "owain@example.org"])
    assert by_address(smtp_server) == everyone
    for received in smtp_server.received:
        check(received, parse_all, method="REQUEST", booking=booking)
    assert {m["kind"] for m in messages_of(coordinator, booking["id"], status="sent")} == {"request"}

    # A speaker swap: Amara off (CANCEL), Priya on (REQUEST); nobody else hears anything.
    smtp_server.received.clear()
    amara, priya = people["speakers"][1], people["speakers"][2]
    assert coordinator.delete(f"{url}/speakers/{amara.id}").status_code == 204
    r = coordinator.put(f"{url}/speakers/{priya.id}", json={"role": "guest"})
    assert r.status_code == 200
    booking = r.json
    send_mail()
    assert by_address(smtp_server) == ["amara@example.org", "priya@example.org"]
    methods = {check(m, parse_all, method=parts(m)[2], booking=booking): parts(m)[2] for m in smtp_server.received}
    assert methods == {"amara@example.org": "CANCEL", "priya@example.org": "REQUEST"}

    # A reschedule: everyone now on it gets an update with a higher SEQUENCE.
    smtp_server.received.clear()
    r = coordinator.patch(url, json={"starts_at": future(31, 14)})
    assert r.status_code == 200 and r.json["sequence"] == booking["sequence"] + 1
    booking = r.json
    send_mail()
    assert by_address(smtp_server) == sorted(CONTACTS + ["owain@example.org", "priya@example.org"])
    for received in smtp_server.received:
        check(received, parse_all, method="REQUEST", booking=booking)
        assert received.message["Subject"].startswith("Updated:")

    # A cancellation: everyone on it gets a CANCEL.
    smtp_server.received.clear()
    r = coordinator.patch(url, json={"status": "cancelled", "cancel_reason": "Board away day moved"})
    assert r.status_code == 200
    booking = r.json
    send_mail()
    assert by_address(smtp_server) == sorted(CONTACTS + ["owain@example.org", "priya@example.org"])
    for received in smtp_server.received:
        check(received, parse_all, method="CANCEL", booking=booking)

    listed = messages_of(coordinator, booking["id"])
    kinds = sorted(m["kind"] for m in listed if m["status"] == "sent")
    assert kinds == sorted(["request"] * 5 + ["cancel", "request"] + ["update"] * 5 + ["cancel"] * 5)
    assert all(m["attempts"] == 1 and m["last_error"] is None and m["sent_at"] for m in listed if m["status"] == "sent")
    # The reminders planned while it was confirmed went with the cancellation.
    assert not [m for m in listed if m["kind"] == "reminder"]
    send_mail()
    assert len(smtp_server.received) == 5  # nothing is sent twice


def test_a_refusal_is_retried_with_the_same_message_id_and_a_550_stops(
        coordinator, confirmed_booking, smtp_server, send_mail, people):
    from api.db import utcnow

    sian, amara = people["contacts"][0], people["speakers"][1]
    assert coordinator.patch(f"/api/v1/contacts/{sian.id}", json={"email_opt_out": True}).json["email_opt_out"]
    assert coordinator.patch(f"/api/v1/speakers/{amara.id}", json={"email": None}).status_code == 200
    booking = confirmed_booking()
    smtp_server.refusals = ["451 4.3.0 Try again later", "550 5.1.1 Mailbox unavailable"]
    t0 = utcnow()
    send_mail(t0)
    first_refused, second_refused = smtp_server.refused
    listed = {m["message_id"]: m for m in messages_of(coordinator, booking["id"], kind="request")}
    assert len(listed) == 3  # Ada, Ben, Owain
    failed = [m for m in listed.values() if m["status"] == "failed"]
    retrying = [m for m in listed.values() if m["status"] == "pending"]
    assert len(failed) == 1 and failed[0]["last_error"].startswith("SMTP 550") and failed[0]["attempts"] == 1
    assert len(retrying) == 1 and retrying[0]["last_error"].startswith("SMTP 451") and retrying[0]["attempts"] == 1
    assert len(smtp_server.received) == 1

    send_mail(t0 + timedelta(seconds=4))  # backoff: not yet
    assert len(smtp_server.received) == 1
    send_mail(t0 + timedelta(seconds=6))
    assert len(smtp_server.received) == 2
    retried = smtp_server.received[-1].message
    refused_message_ids = {_message_id(first_refused), _message_id(second_refused)}
    assert retried["Message-ID"] in refused_message_ids
    assert retried["Message-ID"] == retrying[0]["message_id"]
    assert _message_id(first_refused) == retried["Message-ID"]  # the 451 one came back, unchanged
    send_mail(t0 + timedelta(hours=30))
    assert len(smtp_server.received) == 2  # the 550 is never tried again
    again = {m["message_id"]: m for m in messages_of(coordinator, booking["id"], kind="request")}
    assert again[retried["Message-ID"]]["status"] == "sent" and again[retried["Message-ID"]]["attempts"] == 2
    assert again[failed[0]["message_id"]]["status"] == "failed"


def _message_id(data: bytes) -> str:
    import email
    import email.policy

    return email.message_from_bytes(data, policy=email.policy.default)["Message-ID"]


def test_reminders_go_out_days_before_and_never_after_the_start(
        coordinator, confirmed_booking, smtp_server, send_mail, app):
    booking = confirmed_booking(days=10)
    send_mail()
    smtp_server.received.clear()
    reminders = messages_of(coordinator, booking["id"], kind="reminder")
    assert len(reminders) == 5 and {m["status"] for m in reminders} == {"pending"}
    starts = datetime.fromisoformat(booking["starts_at"].replace("Z", "+00:00"))
    due = starts - timedelta(days=app.config["REMINDER_DAYS"])
    assert {m["next_attempt_at"] for m in reminders} == {due.strftime("%Y-%m-%dT%H:%M:%SZ")}
    send_mail(due - timedelta(minutes=1))
    assert smtp_server.received == []
    send_mail(due + timedelta(minutes=1))
    assert len(smtp_server.received) == 5
    assert all(r.message["Subject"].startswith("Reminder:") for r in smtp_server.received)


def test_a_reminder_still_waiting_when_the_session_starts_expires(
        coordinator, confirmed_booking, smtp_server, send_mail):
    booking = confirmed_booking(days=10)
    send_mail()
    smtp_server.received.clear()
    starts = datetime.fromisoformat(booking["starts_at"].replace("Z", "+00:00"))
    send_mail(starts + timedelta(minutes=1))
    assert smtp_server.received == []
    assert {m["status"] for m in messages_of(coordinator, booking["id"], kind="reminder")} == {"expired"}


def test_nothing_is_sent_for_a_booking_in_the_past_or_one_not_confirmed(coordinator, people, smtp_server, send_mail):
    past = coordinator.post("/api/v1/bookings", json={
        "trust_id": people["trust"].id, "kind": "board_development", "format": "virtual", "status": "confirmed",
        "starts_at": "2024-03-05T10:00:00+00:00", "attendee_ids": [c.id for c in people["contacts"]]}).json
    provisional = coordinator.post("/api/v1/bookings", json={
        "trust_id": people["trust"].id, "kind": "board_development", "format": "virtual", "status": "provisional",
        "starts_at": future(40), "attendee_ids": [c.id for c in people["contacts"]]}).json
    coordinator.patch(f"/api/v1/bookings/{provisional['id']}", json={"status": "cancelled"})
    send_mail()
    assert smtp_server.received == []
    assert messages_of(coordinator, past["id"]) == [] and messages_of(coordinator, provisional["id"]) == []


def test_an_attendee_added_or_removed_on_a_confirmed_booking_hears_about_it(
        coordinator, confirmed_booking, people, smtp_server, send_mail, parse_all, create_contact):
    booking = confirmed_booking()
    send_mail()
    smtp_server.received.clear()
    newcomer = create_contact(people["trust"], name="Nia Evans", email="nia@example.nhs.uk")
    keep = [c.id for c in people["contacts"][1:]] + [newcomer.id]  # Siân off, Nia on
    r = coordinator.patch(f"/api/v1/bookings/{booking['id']}", json={"attendee_ids": keep})
    assert r.status_code == 200
    send_mail()
    methods = {m.recipients[0]: parts(m)[2] for m in smtp_server.received}
    assert methods == {"sian@example.nhs.uk": "CANCEL", "nia@example.nhs.uk": "REQUEST"}
    for received in smtp_server.received:
        check(received, parse_all, method=parts(received)[2], booking=r.json)


def test_reminder_days_zero_sends_no_reminders(coordinator, confirmed_booking, app, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_DAYS", 0)
    booking = confirmed_booking(days=10)
    listed = messages_of(coordinator, booking["id"])
    assert len(listed) == 5 and {m["kind"] for m in listed} == {"request"}


def test_queue_message_skips_people_without_an_address_or_who_opted_out(db, app, people, confirmed_booking):
    """The seam other packages use: ``queue_message(session, booking, person, kind)``."""
    from api.bookings.models import Booking
    from api.mail.messages import Person, queue_message, recipients

    booking = db().get(Booking, confirmed_booking()["id"])
    assert len(recipients(db(), booking)) == 5
    settings = app.config
    assert queue_message(db(), booking, Person("contact", "x", "No Mail", None), "request", settings=settings) is None
    assert queue_message(db(), booking, Person("contact", "x", "Opted", "o@example.org", opt_out=True),
                         "request", settings=settings) is None
    row = queue_message(db(), booking, Person("contact", "x", "Yes", "y@example.org"), "request", settings=settings)
    assert row is not None and row.message_id.startswith("<") and row.body
