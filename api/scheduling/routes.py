"""Scheduling endpoints: the slot finder and the dry-run conflict check."""

from __future__ import annotations

import re
from datetime import time, timedelta

import marshmallow as ma
from flask.views import MethodView

from api.auth import READERS
from api.extensions import Session
from api.bookings.schemas import SessionTime
from api.fields import IdString, Schema, Timestamp
from api.scheduling import service
from api.web import Blueprint, split_csv

blp = Blueprint("scheduling", __name__, url_prefix="/api/v1/scheduling",
                description="Finding times when speakers and a trust are free, and checking a proposed booking.")

MAX_RANGE = timedelta(days=62)
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class SlotQuery(Schema):
    speaker_ids = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000), metadata={
        "description": "Comma-separated speaker ids; every one must be available and free.", "example": "a,b"})
    trust_id = IdString(required=True)
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


@blp.route("/slots")
class Slots(MethodView):
    @blp.access(*READERS)
    @blp.arguments(SlotQuery, location="query", as_kwargs=True)
    @blp.response(200, CandidateSchema(many=True))
    def get(self, speaker_ids, trust_id, from_, to, duration, step, working_start, working_end, weekdays, limit):
        """Find times when speakers and a trust are free

        Candidate starts every `step` minutes from local midnight in the trust's timezone, inside working
        hours there (default 09:00–17:00, Monday to Friday), when every named speaker is available and
        not booked and the trust has no live booking. Earliest first, at most `limit` (max 100); the
        range may span 62 days. `local_times` gives each speaker's local start.
        """
        return service.candidate_slots(
            Session(), speaker_ids=speaker_ids, trust_id=trust_id, start=from_, end=to,
            duration=timedelta(minutes=duration), step=timedelta(minutes=step), working_start=working_start,
            working_end=working_end, weekdays=weekdays, limit=limit)


@blp.route("/check")
class Check(MethodView):
    @blp.access(*READERS)
    @blp.arguments(ProposalSchema, example={
        "trust_id": "5f0c6a43-4a1e-4f7a-9d4a-1c2b3d4e5f60", "starts_at": "2026-03-05T10:00:00Z",
        "speakers": [{"speaker_id": "0b7e5d1c-2f3a-4b5c-8d9e-0f1a2b3c4d5e"}]})
    @blp.response(200, CheckResultSchema)
    def post(self, data):
        """Check a proposed booking for conflicts (dry run)

        The same checks a booking write makes — trust overlap, speaker overlap, speaker availability —
        without writing anything. Give `booking_id` when moving an existing booking.
        """
        return service.check(Session(), data)
