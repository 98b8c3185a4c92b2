"""Personal data endpoints: subject access export and erasure (coordinators only)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.derived import stores_on_read
from api.extensions import Session
from api.privacy import service
from api.privacy.schemas import ContactExportSchema, SpeakerExportSchema
from api.speakers.schemas import SpeakerSchema
from api.trusts.schemas import ContactSchema
from api.web import Blueprint, etag_of, no_store

blp = Blueprint("privacy", __name__, url_prefix="/api/v1",
                description="Personal data (UK GDPR): export everything held about a person, or erase them.")

@blp.route("/contacts/<uuid:contact_id>/export")
class ContactExport(MethodView):
    @no_store
    @stores_on_read(best_effort=False)  # the export's audit entry must stay
    @blp.access("coordinator")
    @blp.response(200, ContactExportSchema)
    @blp.errors(404)
    def get(self, contact_id):
        """Export a contact's personal data

        Subject access: the contact record, the interactions they took part in, the bookings they attended
        and the audit entries about them. The export itself is audited.
        """
        session = Session()
        contact = service.get_contact(session, str(contact_id))
        data = service.export_contact(session, g.principal, contact)
        return data


@blp.route("/contacts/<uuid:contact_id>/erase")
class ContactErase(MethodView):
    @blp.access("coordinator")
    @blp.response(200, ContactSchema)
    @blp.errors(404)
    def post(self, contact_id):
        """Erase a contact

        Anonymises the person everywhere: their record (name replaced, email, phone and notes removed,
        `erased_at` set), interaction summaries, audit entries, stored responses, webhook payloads and rendered
        calendar events that held their name or email, and invitation emails (their address and the stored
        messages; one still waiting to them is never sent). Attendance, speaker slots and outcomes are kept,
        so counts do not change. Erasing again changes nothing and answers the same.
        """
        session = Session()
        contact = service.erase_contact(session, g.principal, service.get_contact(session, str(contact_id)))
        return contact, 200, {"ETag": etag_of(contact)}


@blp.route("/speakers/<uuid:speaker_id>/export")
class SpeakerExport(MethodView):
    @no_store
    @stores_on_read(best_effort=False)  # the export's audit entry must stay
    @blp.access("coordinator")
    @blp.response(200, SpeakerExportSchema)
    @blp.errors(404)
    def get(self, speaker_id):
        """Export a speaker's personal data

        Subject access: the speaker record, availability, the bookings they spoke at and the audit entries
        about them. The export itself is audited.
        """
        session = Session()
        speaker = service.get_speaker(session, str(speaker_id))
        data = service.export_speaker(session, g.principal, speaker)
        return data


@blp.route("/speakers/<uuid:speaker_id>/erase")
class SpeakerErase(MethodView):
    @blp.access("coordinator")
    @blp.response(200, SpeakerSchema)
    @blp.errors(404)
    def post(self, speaker_id):
        """Erase a speaker

        Anonymises the person everywhere: their record (name replaced, email, phone and notes removed,
        `erased_at` set), interaction summaries, audit entries, stored responses, webhook payloads and rendered
        calendar events that held their name or email, and invitation emails (their address and the stored
        messages; one still waiting to them is never sent). Attendance, speaker slots and outcomes are kept,
        so counts do not change. Erasing again changes nothing and answers the same.
        """
        session = Session()
        speaker = service.erase_speaker(session, g.principal, service.get_speaker(session, str(speaker_id)))
        return speaker, 200, {"ETag": etag_of(speaker, "full")}

