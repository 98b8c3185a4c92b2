"""Subject access export, erasure everywhere, and the retention sweep."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

NAME, EMAIL = "Siân Gwilym", "sian.gwilym@example.nhs.uk"


def test_export_contact(coordinator, viewer, create_contact, create_booking):
    contact = create_contact(name=NAME, email=EMAIL)
    contact_id, trust_id = contact.id, contact.trust_id
    from types import SimpleNamespace
    booking = create_booking(trust=SimpleNamespace(id=trust_id), attendees=[contact])
    coordinator.post(f"/api/v1/trusts/{trust_id}/interactions",
                     json={"kind": "interview", "occurred_at": "2025-01-01T10:00:00Z", "summary": "Talked",
                           "contact_ids": [contact_id]})
    coordinator.patch(f"/api/v1/contacts/{contact_id}", json={"role": "Chief Executive"})
    r = coordinator.get(f"/api/v1/contacts/{contact_id}/export")
    assert r.status_code == 200
    assert r.json["contact"]["name"] == NAME and r.json["contact"]["email"] == EMAIL
    assert [i["summary"] for i in r.json["interactions"]] == ["Talked"]
    assert r.json["bookings_attended"] == [{"id": booking.id, "title": booking.title,
                                            "starts_at": "2025-03-05T10:00:00Z"}]
    assert [e["action"] for e in r.json["audit_events"]] == ["update"]
    assert viewer.get(f"/api/v1/contacts/{contact_id}/export").status_code == 403
    assert coordinator.get(f"/api/v1/audit-events?entity_id={contact_id}&action=export").json


def test_erase_contact_everywhere_keeps_counts(coordinator, create_contact, create_booking, db):
    from api.bookings.models import BookingRendering, booking_attendees
    from api.outbox import OutboxEvent, emit
    from api.trusts.models import Interaction

    contact = create_contact(name=NAME, email=EMAIL)
    contact_id, trust_id = contact.id, contact.trust_id
    from types import SimpleNamespace
    booking = create_booking(trust=SimpleNamespace(id=trust_id), attendees=[contact])
    other = create_booking(trust=SimpleNamespace(id=trust_id), starts_at=datetime(2025, 6, 1, 9, tzinfo=timezone.utc))
    emit(db(), "booking.updated", entity_type="booking", entity_id=booking.id, partner_id=None,
         payload={"attendees": [{"name": NAME, "email": EMAIL}]})
    db().commit()
    created = coordinator.post(f"/api/v1/trusts/{trust_id}/interactions", headers={"Idempotency-Key": "k1"},
                               json={"kind": "call", "occurred_at": "2025-01-01T10:00:00Z",
                                     "summary": f"Call with {NAME} ({EMAIL}) about the board", "contact_ids": [contact_id]})
    assert created.status_code == 201
    coordinator.put(f"/api/v1/bookings/{booking.id}/outcome", json={"summary": "Good", "attendance": 9})
    coordinator.patch(f"/api/v1/contacts/{contact_id}", json={"name": NAME + " OBE"})

    r = coordinator.post(f"/api/v1/contacts/{contact_id}/erase")
    assert r.status_code == 200, r.json
    assert r.json["name"] == "Erased contact" and r.json["email"] is None and r.json["phone"] is None
    assert r.json["erased_at"].endswith("Z")
    assert coordinator.post(f"/api/v1/contacts/{contact_id}/erase").json == r.json  # harmless twice

    session = db()
    session.expire_all()
    dump = []
    for table in ("contacts", "interactions", "audit_events", "idempotency_records", "outbox_events", "bookings",
                  "booking_renderings"):
        dump += [str(tuple(row)) for row in session.execute(text(f"SELECT * FROM {table}"))]
    everything = "\n".join(dump)
    for secret in (NAME, EMAIL, "Si\\u00e2n", "sian.gwilym"):
        assert secret not in everything, secret
    assert session.scalar(select(Interaction.summary)) == "Call with [erased] ([erased]) about the board"
    # The attendee's booking is a new version (its JSON lists attendees in name order): its texts are rendered
    # again on the next read; the other booking's stay.
    assert session.get(BookingRendering, booking.id).api_doc is None
    assert session.get(BookingRendering, other.id).api_doc is not None
    assert session.execute(select(booking_attendees)).all() == [(booking.id, contact_id)]
    assert coordinator.get(f"/api/v1/bookings/{booking.id}/outcome").json["attendance"] == 9
    erased = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "contact.erased")).all()
    assert len(erased) == 1 and erased[0].payload == {"id": contact_id} and erased[0].partner_id is None
    events = coordinator.get(f"/api/v1/audit-events?entity_id={contact_id}&action=erase").json
    assert len(events) == 1 and NAME not in str(events)
    assert coordinator.patch(f"/api/v1/contacts/{contact_id}", json={"name": "Back"}).status_code == 409


def test_erase_speaker(coordinator, create_speaker, create_booking, db):
    from api.bookings.models import BookingSpeaker

    speaker_id = create_speaker(name="Dr Amara Okafor", email="amara@example.org").id
    booking = create_booking()
    db().add(BookingSpeaker(booking_id=booking.id, speaker_id=speaker_id, starts_at=booking.starts_at,
                            ends_at=booking.starts_at + timedelta(hours=1)))
    db().commit()
    export = coordinator.get(f"/api/v1/speakers/{speaker_id}/export")
    assert export.status_code == 200 and export.json["speaker"]["email"] == "amara@example.org"
    assert [b["id"] for b in export.json["bookings"]] == [booking.id]
    r = coordinator.post(f"/api/v1/speakers/{speaker_id}/erase")
    assert r.status_code == 200 and r.json["name"] == "Erased speaker" and r.json["email"] is None
    assert r.json["active"] is False
    assert db().scalar(select(BookingSpeaker.speaker_id)) == speaker_id
    assert "Amara" not in str(coordinator.get(f"/api/v1/audit-events?entity_id={speaker_id}").json)


def test_retention_command(app, db, create_trust, create_contact, create_booking):
    from api.trusts.models import Contact

    old = datetime.now(timezone.utc) - timedelta(days=4000)
    idle, busy = create_trust(), create_trust()
    idle_id = idle.id
    stale = create_contact(trust=idle, name="Old Contact", email="old@example.org")
    stale_id = stale.id
    create_contact(trust=busy, name="Recent Contact")
    db().execute(Contact.__table__.update().where(Contact.trust_id == idle_id).values(updated_at=old))
    db().commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["privacy", "retention", "--days", "3000", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would erase contact {stale_id}" in dry.output and "1 contacts would be erased" in dry.output
    assert db().get(Contact, stale_id).erased_at is None
    done = runner.invoke(args=["privacy", "retention", "--days", "3000"])
    assert done.exit_code == 0 and "1 contacts erased" in done.output
    db().expire_all()
    assert db().get(Contact, stale_id).name == "Erased contact"
    assert db().scalar(select(Contact.name).where(Contact.name == "Recent Contact"))
