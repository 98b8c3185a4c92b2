"""Report shapes."""

from __future__ import annotations

import marshmallow as ma

from api.feedback.schemas import AttendeeFeedbackSchema
from api.fields import Day, Schema


class ReportArgs(Schema):
    start = Day(data_key="from", metadata={"description": "First day (Europe/London), inclusive."})
    end = Day(data_key="to", metadata={"description": "Last day (Europe/London), inclusive."})

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ma.ValidationError("Must be on or after `from`.", "to")


class CoverageSchema(Schema):
    trusts_engaged = ma.fields.Integer(metadata={"description": "Trusts (not archived) with a delivered session in the period."})
    trusts_total = ma.fields.Integer(metadata={"description": "Trusts not archived."})
    coverage = ma.fields.Float(allow_none=True, metadata={"description": "engaged ÷ total; null when there are none."})


class SystemCoverageSchema(CoverageSchema):
    name = ma.fields.String(metadata={"example": "West Yorkshire"})
    region = ma.fields.String(metadata={"example": "north_east_and_yorkshire"})


class MonthSchema(Schema):
    month = ma.fields.String(metadata={"example": "2026-03", "description": "Europe/London month."})
    sessions = ma.fields.Integer()


class ThemeCountSchema(Schema):
    slug = ma.fields.String()
    name = ma.fields.String()
    count = ma.fields.Integer(metadata={"description": "Outcomes naming this theme."})


class ConfidenceSchema(Schema):
    mean_before = ma.fields.Float(allow_none=True)
    mean_after = ma.fields.Float(allow_none=True)
    mean_change = ma.fields.Float(allow_none=True)
    responses = ma.fields.Integer(metadata={"description": "Outcomes with both a before and an after score."})


class SpeakerSessionsSchema(Schema):
    speaker_id = ma.fields.String(metadata={"format": "uuid"})
    name = ma.fields.String()
    sessions = ma.fields.Integer()


class MasterclassFiguresSchema(Schema):
    registrations = ma.fields.Integer(metadata={"description": "Places held: registered, attended or no-show."})
    attended = ma.fields.Integer()
    no_shows = ma.fields.Integer()
    trusts_reached = ma.fields.Integer(metadata={"description": "Distinct trusts of the people holding places."})


class MasterclassesSchema(MasterclassFiguresSchema):
    classes = ma.fields.Integer(metadata={"description": "Masterclasses (not cancelled) starting in the period."})
    by_region = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(MasterclassFiguresSchema), metadata={
        "description": "The same figures by the region of the participants' trusts."})


class ProgrammeReportSchema(Schema):
    start = Day(data_key="from", attribute="from", allow_none=True)
    end = Day(data_key="to", attribute="to", allow_none=True)
    bookings_by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                                        metadata={"description": "Bookings starting in the period, by status."})
    trusts_engaged = ma.fields.Integer()
    trusts_total = ma.fields.Integer()
    coverage = ma.fields.Float(allow_none=True)
    by_region = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CoverageSchema))
    by_trust_type = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CoverageSchema))
    by_ics = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(SystemCoverageSchema), metadata={
        "description": "Coverage per integrated care system, keyed by its `code` (every system, by name; trusts "
                       "without `ics_code` count in none)."})
    by_month = ma.fields.List(ma.fields.Nested(MonthSchema), metadata={"description": "Delivered sessions per month."})
    themes = ma.fields.List(ma.fields.Nested(ThemeCountSchema))
    confidence = ma.fields.Nested(ConfidenceSchema)
    sessions_by_speaker = ma.fields.List(ma.fields.Nested(SpeakerSessionsSchema))
    masterclasses = ma.fields.Nested(MasterclassesSchema, metadata={
        "description": "Cohort events for board members of many trusts (by their classes' start)."})
    attendee_feedback = ma.fields.Nested(AttendeeFeedbackSchema, metadata={
        "description": "Attendee survey answers for bookings starting in the period (`/survey/{token}`)."})
