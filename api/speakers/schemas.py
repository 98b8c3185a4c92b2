"""Speaker and availability shapes."""

from __future__ import annotations

import re

import marshmallow as ma

from api.fields import IdString, PartialMixin, Schema, SlugList, Text, TimeZoneName, Timestamp
from api.web import ListArgs

HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class SpeakerSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    name = Text(200, required=True, metadata={"example": "Dr Amara Okafor"})
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=320),
                            metadata={"description": "Not shown to partners.", "example": "amara@example.org"})
    phone = Text(50, metadata={"description": "Not shown to partners.", "example": "+61 2 9000 0000"})
    organisation = Text(200, metadata={"example": "Sydney Local Health District"})
    trust_id = IdString(allow_none=True, metadata={"description": "The NHS trust the speaker works for, if any."})
    bio = Text(10000)
    topics = SlugList(load_default=list)
    timezone = TimeZoneName(required=True, metadata={"example": "Australia/Sydney",
                                                     "description": "IANA zone the speaker lives in; required."})
    active = ma.fields.Boolean(load_default=True)
    email_opt_out = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: this speaker is sent no invitation emails. Not shown to partners."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class SpeakerPatchSchema(PartialMixin, SpeakerSchema):
    """Any subset of a speaker's fields."""


class SpeakerListArgs(ListArgs):
    topic = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "Topic slug."})
    active = ma.fields.Boolean()
    q = ma.fields.String(validate=ma.validate.Length(max=200), metadata={"description": "Name or organisation contains."})
    available_from = Timestamp(metadata={"description": "With available_to: only speakers available and free for the whole range."})
    available_to = Timestamp()

    @ma.validates_schema
    def _range(self, data, **_kwargs):
        start, end = data.get("available_from"), data.get("available_to")
        if (start is None) != (end is None):
            raise ma.ValidationError("Give both available_from and available_to.", "available_to")
        if start is not None and end <= start:
            raise ma.ValidationError("Must be after available_from.", "available_to")
        if start is not None and (end - start).days > 31:
            raise ma.ValidationError("The range may span at most 31 days.", "available_to")


class WeeklyWindowSchema(Schema):
    weekday = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 6),
                                metadata={"description": "0 = Monday ... 6 = Sunday", "example": 0})
    start_time = ma.fields.String(required=True, validate=ma.validate.Regexp(HHMM_RE, error="Use HH:MM, 00:00 to 23:59."),
                                  metadata={"example": "09:00"})
    end_time = ma.fields.String(required=True, validate=ma.validate.Regexp(HHMM_RE, error="Use HH:MM, up to 24:00."),
                                metadata={"example": "17:30"})

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and HHMM_RE.match(start) and HHMM_RE.match(end):
            if start == "24:00":
                raise ma.ValidationError("A window cannot start at 24:00.", "start_time")
            if end <= start:
                raise ma.ValidationError("Must be after start_time; a window does not cross midnight (use two).",
                                         "end_time")


class AvailabilityExceptionSchema(Schema):
    starts_at = Timestamp(required=True)
    ends_at = Timestamp(required=True)
    available = ma.fields.Boolean(load_default=False, metadata={
        "description": "false: away for this time; true: extra time outside the weekly windows."})

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")


class AvailabilitySchema(Schema):
    weekly = ma.fields.List(ma.fields.Nested(WeeklyWindowSchema), load_default=list,
                            validate=ma.validate.Length(max=100))
    exceptions = ma.fields.List(ma.fields.Nested(AvailabilityExceptionSchema), load_default=list,
                                validate=ma.validate.Length(max=1000))
    timezone = ma.fields.String(dump_only=True, metadata={"description": "The speaker's zone: weekly times are local to it."})
