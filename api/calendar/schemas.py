"""Feed subscription and invite query shapes."""

from __future__ import annotations

import marshmallow as ma

from api.calendar.models import FEED_SCOPES
from api.fields import IdString, Schema, Timestamp
from api.web import ListArgs


class FeedSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    scope = ma.fields.String(required=True, validate=ma.validate.OneOf(FEED_SCOPES), metadata={
        "description": "`speaker`: one speaker's sessions; `trust`: one trust's bookings; `programme`: every "
                       "booking; `contact` (coordinators only): the sessions one board member attends, without "
                       "the `brief`. A partner's feed of any scope holds only that partner's bookings.",
        "example": "speaker"})
    speaker_id = IdString(allow_none=True, metadata={"description": "Required for (and only for) scope `speaker`."})
    trust_id = IdString(allow_none=True, metadata={"description": "Required for (and only for) scope `trust`."})
    contact_id = IdString(allow_none=True, metadata={"description": "Required for (and only for) scope `contact`."})
    partner_id = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "format": "uuid", "description": "Set for a partner's feed: it holds only that partner's bookings."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)

    @ma.validates_schema
    def _scope_target(self, data, **_kwargs):
        scope = data.get("scope")
        if scope not in FEED_SCOPES:
            return
        errors = {}
        for field, wanted in (("speaker_id", "speaker"), ("trust_id", "trust"), ("contact_id", "contact")):
            if scope == wanted and not data.get(field):
                errors[field] = [f"Required for scope {wanted!r}."]
            if scope != wanted and data.get(field) is not None:
                errors[field] = [f"Only for scope {wanted!r}."]
        if errors:
            raise ma.ValidationError(errors)


class NewFeedSchema(FeedSchema):
    url = ma.fields.String(dump_only=True, metadata={
        "description": "The feed's absolute address (secret: anyone holding it can read the feed).",
        "example": "https://boardroom.example/feeds/brf_xHk2...Q.ics"})
    webcal_url = ma.fields.String(dump_only=True, metadata={
        "description": "The same address as `webcal://`, which opens a subscription in calendar apps.",
        "example": "webcal://boardroom.example/feeds/brf_xHk2...Q.ics"})
    token = ma.fields.String(dump_only=True, metadata={
        "description": "The feed's secret. Shown only in this response: it is stored hashed."})


class FeedListArgs(ListArgs):
    scope = ma.fields.String(validate=ma.validate.OneOf(FEED_SCOPES))


class InviteArgs(Schema):
    attendee = IdString(metadata={
        "description": "A speaker or attendee contact on the booking: the invite names only them "
                       "(same UID, so it updates the same calendar entry). Someone taken off the booking gets "
                       "their CANCEL. With a partner token, a speaker only (anything else is 422)."})
