"""Registration request/response shapes: the coordinator's view and the partner's (what it gave, no contact id)."""

from __future__ import annotations

import marshmallow as ma

from api.bookings.models import REGISTRATION_STATUSES
from api.fields import IdString, Schema, Text, Timestamp
from api.web import ListArgs

# What a PATCH may set; `waitlisted` is the class's answer when it is full, never asked for.
SETTABLE_STATUSES = ("registered", "cancelled", "attended", "no_show")


class RegistrationSchema(Schema):
    """A registration. Partners read only those they made, without `contact_id` and `partner_id`."""

    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    booking_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    contact_id = ma.fields.String(dump_only=True, metadata={
        "format": "uuid", "description": "The board member (a contact). Not shown to partners."})
    trust_id = ma.fields.String(dump_only=True, metadata={"format": "uuid", "description": "The board member's trust."})
    status = ma.fields.String(dump_only=True, metadata={"enum": list(REGISTRATION_STATUSES), "example": "registered"})
    position = ma.fields.Integer(dump_only=True, metadata={
        "description": "Order of arrival in the class: the waiting list moves up in this order."})
    partner_id = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "format": "uuid", "description": "The partner that made it; null when the programme team did. Not shown "
                                         "to partners."})
    name = ma.fields.String(dump_only=True, allow_none=True, attribute="given_name", metadata={
        "description": "The name given when a partner registered them (null otherwise)."})
    email = ma.fields.String(dump_only=True, allow_none=True, attribute="given_email", metadata={
        "description": "The email given when a partner registered them (null otherwise)."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class RegistrationCreateSchema(Schema):
    """Coordinators: `{contact_id}`. Partners (and coordinators registering by name): `{trust_id, name, email,
    role}`, matched to that trust's contact with that email (left unchanged) or added as a new contact."""

    contact_id = IdString(metadata={"description": "Coordinators: the contact to register."})
    trust_id = IdString(metadata={"description": "The trust whose board member is registered."})
    name = Text(200, allow_none=False, metadata={"example": "Dr Siân Williams"})
    email = ma.fields.Email(validate=ma.validate.Length(max=320), metadata={
        "description": "Matched, in any case, to the trust's contacts.", "example": "sian.williams@nhs.net"})
    role = Text(200, metadata={"description": "A new contact's board role.", "example": "Chief Digital Officer"})


class RegistrationPatchSchema(Schema):
    """A registration's status: cancel a place, bring a cancelled one back, or record attendance."""

    status = ma.fields.String(required=True, validate=ma.validate.OneOf(SETTABLE_STATUSES), metadata={
        "description": "`registered` (a cancelled place comes back: `waitlisted` when the class is full), "
                       "`cancelled`, or after the class `attended` / `no_show`."})


class RegistrationListArgs(ListArgs):
    status = ma.fields.String(validate=ma.validate.Length(max=200), metadata={
        "description": "Comma-separated statuses (all when absent)."})

    @ma.validates("status")
    def _statuses(self, value, **_kwargs):
        unknown = [s for s in value.split(",") if s.strip() and s.strip() not in REGISTRATION_STATUSES]
        if unknown:
            raise ma.ValidationError(f"Unknown status {', '.join(unknown)}; use {', '.join(REGISTRATION_STATUSES)}.")
