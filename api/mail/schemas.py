"""Invitation email shapes: a booking's messages as coordinators read them."""

from __future__ import annotations

import marshmallow as ma

from api.fields import Schema, Timestamp
from api.mail.models import KINDS, STATUSES
from api.web import ListArgs


class MessageSchema(Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    booking_id = ma.fields.String(metadata={"format": "uuid"})
    recipient = ma.fields.String(attribute="recipient_email", allow_none=True, metadata={
        "description": "The address it is (or was) sent to; null once the person has been erased.",
        "example": "sian.williams@nhs.net"})
    recipient_name = ma.fields.String(allow_none=True, metadata={"example": "Dr Siân Williams"})
    recipient_type = ma.fields.String(metadata={"description": "`speaker` or `contact`.", "example": "contact"})
    recipient_id = ma.fields.String(metadata={"format": "uuid"})
    kind = ma.fields.String(metadata={"description": "`request` (invitation), `update` (new time, format, place or "
                                                     "link: same UID, higher SEQUENCE), `cancel` or `reminder`.",
                                      "example": "request"})
    sequence = ma.fields.Integer(metadata={"description": "The invite's SEQUENCE in this message."})
    message_id = ma.fields.String(metadata={"description": "The `Message-ID` header, the same on every retry.",
                                            "example": "<170000000.1.request@boardroom.example>"})
    status = ma.fields.String(metadata={"description": "`pending` (to be tried at `next_attempt_at`), `sent`, `failed` "
                                                       "(refused for good, or gave up) or `expired` (not sent before "
                                                       "the session started)."})
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True, metadata={"example": "SMTP 451: try again later"})
    next_attempt_at = Timestamp(allow_none=True)
    sent_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class MessageListArgs(ListArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
