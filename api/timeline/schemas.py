"""Timeline shapes."""

from __future__ import annotations

import marshmallow as ma

from api.fields import Schema, Timestamp
from api.timeline.service import KINDS
from api.web import ListArgs, split_csv


class TimelineEntrySchema(Schema):
    kind = ma.fields.String(metadata={"enum": list(KINDS), "example": "interaction"})
    at = Timestamp(metadata={"description": "When it happened: an interaction's `occurred_at`, a booking's "
                                            "`starts_at` (its `created_at` while it has no time), an outcome's and "
                                            "its next steps' booking `ends_at`."})
    id = ma.fields.String(metadata={"format": "uuid", "description": "The interaction, booking, outcome or next "
                                                                     "step's own id."})
    booking_id = ma.fields.String(allow_none=True, metadata={
        "format": "uuid", "description": "The booking it belongs to (a booking's own id), if any."})
    summary = ma.fields.String(metadata={"example": "interview: Pre-session interview with the chair."})


class TimelineArgs(ListArgs):
    kind = ma.fields.String(validate=ma.validate.Length(max=200), metadata={
        "description": f"Comma-separated kinds: {', '.join(KINDS)}.", "example": "interaction,booking"})
    sort = ma.fields.String(validate=ma.validate.OneOf(["-at", "at"]), metadata={
        "description": "`-at` (newest first, the default) or `at`."})

    @ma.validates("kind")
    def _kinds(self, value, **_kwargs):
        kinds = split_csv(value)
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ma.ValidationError(f"Use one or more of {', '.join(KINDS)}.")
