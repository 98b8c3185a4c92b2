"""Scheduling request/response shapes: the slot finder's query and the dry-run conflict check."""

from __future__ import annotations

import re
from datetime import time, timedelta

import marshmallow as ma

from api.fields import IdString, Schema, SessionTime, Timestamp
from api.web import split_csv

MAX_RANGE = timedelta(days=62)
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class SlotQuery(Schema):
    speaker_ids = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000), metadata={
        "description": "Comma-separated speaker ids; every one must be available and free.", "example": "a,b"})
    trust_id = IdString(required=True)
    topic = ma.fields.String(validate=ma.validate.Length(min=1, max=64), metadata={
        "description": "Instead of `speaker_ids` (and the partner's way): times when at least one active speaker "
                       "on this topic (a slug) is available and free. Without either, any active speaker.",
        "example": "cyber-security"})
    from_ = SessionTime(data_key="from", required=True)
    to = SessionTime(required=True, metadata={"description": "At most 62 days after `from`."})
    duration = ma.fields.Integer(load_default=180, validate=ma.validate.Range(15, 1440),
                                 metadata={"description": "Minutes."})
    step = ma.fields.Integer(load_default=30, validate=ma.validate.Range(5, 1440),
                             metadata={"description": "Minutes between candidate starts, from local midnight."})
    working_start = ma.fields.String(load_default="09:00", validate=ma.validate.Regexp(HHMM, error="Use HH:MM."),
                                     metadata={"description": "In the trust's timezone."})
    working_end = ma.fields.String(load_default="17:00", validate=ma.validate.Regexp(HHMM, error="Use HH:MM."))
    weekdays = ma.fields.String(load_default="0,1,2,3,4", metadata={
        "description": "Comma-separated weekdays in the trust's timezone, 0 = Monday."})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, 100))

    @ma.post_load
    def _convert(self, data, **_kwargs):
        errors = {}
        ids = split_csv(data["speaker_ids"])
        try:
            data["speaker_ids"] = list(dict.fromkeys(IdString().deserialize(i) for i in ids))
        except ma.ValidationError:
            errors["speaker_ids"] = ["Each id must be a UUID."]
        if len(ids) > 10:
            errors["speaker_ids"] = ["At most 10 speakers."]
        if ids and data.get("topic") is not None:
            errors["topic"] = ["Name speaker_ids or a topic, not both."]
        try:
            data["weekdays"] = sorted({int(d) for d in split_csv(data["weekdays"])})
            if not data["weekdays"] or not all(0 <= d <= 6 for d in data["weekdays"]):
                raise ValueError
        except ValueError:
            errors["weekdays"] = ["Comma-separated numbers 0 (Monday) to 6 (Sunday)."]
        data["working_start"], data["working_end"] = _hhmm(data["working_start"]), _hhmm(data["working_end"])
        if data["working_end"] <= data["working_start"]:
            errors["working_end"] = ["Must be after working_start."]
        if data["to"] <= data["from_"]:
            errors["to"] = ["Must be after from."]
        elif data["to"] - data["from_"] > MAX_RANGE:
            errors["to"] = ["The range may span at most 62 days."]
        if errors:
            raise ma.ValidationError(errors)
        return data


class CandidateSchema(Schema):
    starts_at = Timestamp()
    ends_at = Timestamp()
    local_times = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={
        "description": "Speaker id to the local start time (ISO 8601 with the speaker's offset).",
        "example": {"0b7e...": "2026-03-05T21:00:00+11:00"}})


class ProposedSpeaker(Schema):
    speaker_id = IdString(required=True)
    starts_at = SessionTime()
    ends_at = SessionTime()


class ProposalSchema(Schema):
    trust_id = IdString(required=True)
    starts_at = SessionTime(required=True)
    ends_at = SessionTime(metadata={"description": "Defaults to starts_at + 180 minutes."})
    booking_id = IdString(metadata={"description": "An existing booking being moved: not counted against itself."})
    speakers = ma.fields.List(ma.fields.Nested(ProposedSpeaker), load_default=list, validate=ma.validate.Length(max=20))
    override_availability = ma.fields.Boolean(load_default=False)


class ConflictSchema(Schema):
    kind = ma.fields.String(metadata={"enum": ["speaker_overlap", "trust_overlap", "outside_availability"]})
    booking_id = ma.fields.String(allow_none=True)
    speaker_id = ma.fields.String(allow_none=True)
    starts_at = ma.fields.String(metadata={"format": "date-time"})
    ends_at = ma.fields.String(metadata={"format": "date-time"})


class CheckResultSchema(Schema):
    ok = ma.fields.Boolean(metadata={"description": "True when nothing conflicts."})
    conflicts = ma.fields.List(ma.fields.Nested(ConflictSchema))
