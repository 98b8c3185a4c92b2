"""Erasing a person scrubs the email outbox: their address, name and stored bodies."""

from __future__ import annotations

from sqlalchemy import select

from tests.mail.conftest import messages_of


def test_erasing_a_speaker_scrubs_their_messages_and_every_stored_body_naming_them(
        coordinator, confirmed_booking, people, send_mail, db):
    from api.mail.models import EmailMessage

    booking = confirmed_booking()
    send_mail()
    owain = people["speakers"][0]
    r = coordinator.post(f"/api/v1/speakers/{owain.id}/erase")
    assert r.status_code == 200, r.get_data(as_text=True)
    listed = messages_of(coordinator, booking["id"])
    assert not [m for m in listed if m["recipient"] == "owain@example.org" or m["recipient_name"] == "Owain Price"]
    own = [m for m in listed if m["recipient_id"] == owain.id]
    assert own and all(m["recipient"] is None for m in own)
    assert all(m["status"] != "pending" for m in own)  # his reminder will never go
    db().expire_all()
    rows = db().scalars(select(EmailMessage).where(EmailMessage.booking_id == booking["id"])).all()
    for row in rows:
        assert row.body is None or ("Owain" not in row.body and "owain@" not in row.body)
    waiting = [row for row in rows if row.status == "pending"]
    assert waiting and all(row.body for row in waiting)  # the others' reminders, written again without him


def test_erasing_a_contact_scrubs_their_messages(coordinator, confirmed_booking, people, send_mail, db):
    from api.mail.models import EmailMessage

    booking = confirmed_booking()
    send_mail()
    sian = people["contacts"][0]
    assert coordinator.post(f"/api/v1/contacts/{sian.id}/erase").status_code == 200
    db().expire_all()
    rows = db().scalars(select(EmailMessage).where(EmailMessage.recipient_id == sian.id)).all()
    assert rows and all(r.recipient_email is None and r.body is None for r in rows)
    assert all("sian@" not in (r.body or "") for r in db().scalars(select(EmailMessage)))
    assert all(m["recipient"] != "sian@example.nhs.uk" for m in messages_of(coordinator, booking["id"]))


def test_subject_access_exports_the_emails_sent_to_the_person(coordinator, confirmed_booking, people, send_mail):
    confirmed_booking()
    send_mail()
    sian, owain = people["contacts"][0], people["speakers"][0]
    contact_emails = coordinator.get(f"/api/v1/contacts/{sian.id}/export").json["emails"]
    assert {(m["kind"], m["status"]) for m in contact_emails} == {("request", "sent"), ("reminder", "pending")}
    assert all(m["recipient"] == "sian@example.nhs.uk" for m in contact_emails)
    speaker_emails = coordinator.get(f"/api/v1/speakers/{owain.id}/export").json["emails"]
    assert {m["recipient"] for m in speaker_emails} == {"owain@example.org"}
