"""Change request shapes: what a partner asks for, and the programme team's answer."""

from __future__ import annotations

import marshmallow as ma

from api.bookings.models import FORMATS
from api.change_requests.models import STATUSES
from api.fields import HttpUrl, IdString, PartialMixin, Schema, SessionTime, Text, Timestamp
from api.web import ListArgs


class ChangeRequestSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    booking_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    partner_id = ma.fields.String(dump_only=True, allow_none=True, metadata={"format": "uuid"})
    status = ma.fields.String(dump_only=True, metadata={
        "enum": list(STATUSES), "description": "`open` until the programme team accepts or declines it."})
    requested_fields = ma.fields.Method("_requested", dump_only=True, metadata={
        "type": "array", "items": {"type": "string"},
        "description": "The booking fields this request asks to change (those it named)."})
    starts_at = SessionTime(allow_none=True, metadata={"description": "The new start (in the future)."})
    ends_at = SessionTime(allow_none=True, metadata={
        "description": "The new end; with only `starts_at`, the booking keeps its length."})
    format = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(FORMATS))
    location = Text(500, metadata={"description": "Required unless the booking is (or becomes) virtual."})
    video_url = HttpUrl(allow_none=True, validate=ma.validate.Length(max=1000))
    message = Text(5000, metadata={"description": "What the partner would like, in words (alone or with changes).",
                                   "example": "The chair cannot make the morning; could we start at 14:00?"})
    response = ma.fields.String(dump_only=True, allow_none=True,
                                metadata={"description": "The programme team's answer."})
    resolved_at = Timestamp(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)

    def _requested(self, change_request):
        return [f for f in change_request.fields_named.split(",") if f]

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")
        for field in ("starts_at", "ends_at", "format"):
            if field in data and data[field] is None:
                raise ma.ValidationError("Leave it out to keep the booking's value.", field)


class ResolutionSchema(PartialMixin, Schema):
    """The programme team's answer: accept (the change is applied) or decline, with a response."""

    status = ma.fields.String(validate=ma.validate.OneOf(("accepted", "declined")), metadata={
        "description": "`accepted` applies the change to the booking under every booking rule (409 if it "
                       "conflicts; the request then stays open); `declined` leaves the booking as it is."})
    response = Text(5000, metadata={"example": "Moved to 14:00 as asked."})


class ChangeRequestListArgs(ListArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    booking_id = IdString()
