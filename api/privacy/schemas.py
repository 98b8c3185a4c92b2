"""Subject access export shapes."""

from __future__ import annotations

import marshmallow as ma

from api.audit.schemas import AuditEventSchema
from api.feedback.schemas import SurveyResponseSchema
from api.fields import Schema, Timestamp
from api.interactions.schemas import InteractionSchema
from api.registrations.schemas import RegistrationSchema
from api.mail.schemas import MessageSchema
from api.speakers.schemas import AvailabilitySchema, SpeakerSchema
from api.trusts.schemas import ContactSchema


class AttendedBookingSchema(Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    title = ma.fields.String()
    starts_at = Timestamp()


class SpokenBookingSchema(AttendedBookingSchema):
    role = ma.fields.String(metadata={"example": "guest"})


class ContactExportSchema(Schema):
    contact = ma.fields.Nested(ContactSchema)
    interactions = ma.fields.List(ma.fields.Nested(InteractionSchema), metadata={"description": "Interactions they took part in."})
    bookings_attended = ma.fields.List(ma.fields.Nested(AttendedBookingSchema))
    survey_responses = ma.fields.List(ma.fields.Nested(SurveyResponseSchema), metadata={
        "description": "Attendee feedback they gave under a name that matched them."})
    registrations = ma.fields.List(ma.fields.Nested(RegistrationSchema), metadata={
        "description": "Their masterclass registrations in every status (with any name and email a partner gave)."})
    emails = ma.fields.List(ma.fields.Nested(MessageSchema), metadata={"description": "Invitation emails to them."})
    audit_events = ma.fields.List(ma.fields.Nested(AuditEventSchema), metadata={"description": "Audit entries about them."})


class SpeakerExportSchema(Schema):
    speaker = ma.fields.Nested(SpeakerSchema)
    availability = ma.fields.Nested(AvailabilitySchema)
    bookings = ma.fields.List(ma.fields.Nested(SpokenBookingSchema))
    emails = ma.fields.List(ma.fields.Nested(MessageSchema), metadata={"description": "Invitation emails to them."})
    audit_events = ma.fields.List(ma.fields.Nested(AuditEventSchema))
