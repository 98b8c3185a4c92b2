"""Shapes of survey links, responses and the report's feedback figures; and the public form's fields."""

from __future__ import annotations

import marshmallow as ma

from api import jsonbody
from api.fields import Schema, Timestamp
from api.web import ListArgs

NAME_MAX = 200
NEXT_STEP_MAX = 2000


class SurveyLinkSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    booking_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    responses = ma.fields.Integer(dump_only=True, metadata={"description": "Answers given through this link."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class NewSurveyLinkSchema(SurveyLinkSchema):
    url = ma.fields.String(dump_only=True, metadata={
        "description": "The form's absolute address, to send to the board members (shown once).",
        "example": "https://boardroom.example/survey/brs_9x2hQ0d6pT1Vb4mYk0eWc8sZ3aLr7uNj5fGq2iHy1oE"})
    token = ma.fields.String(dump_only=True, metadata={"description": "The secret in the URL (shown once)."})


class SurveyResponseSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    booking_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    contact_id = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "format": "uuid", "description": "The attendee the given name matched (null when none did, or unnamed)."})
    name = ma.fields.String(dump_only=True, allow_none=True, metadata={"example": "Dr Amara Okafor"})
    confidence_before = ma.fields.Integer(dump_only=True, metadata={"example": 2, "description": "1-5."})
    confidence_after = ma.fields.Integer(dump_only=True, metadata={"example": 4, "description": "1-5."})
    usefulness = ma.fields.Integer(dump_only=True, metadata={"example": 9, "description": "0-10."})
    next_step = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "example": "Ask the executive for a one-page digital strategy by March."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class FeedbackListArgs(ListArgs):
    pass


class AttendeeFeedbackSchema(Schema):
    responses = ma.fields.Integer(metadata={"description": "Survey answers for bookings in the period."})
    mean_confidence_before = ma.fields.Float(allow_none=True)
    mean_confidence_after = ma.fields.Float(allow_none=True)
    mean_confidence_change = ma.fields.Float(allow_none=True)
    mean_usefulness = ma.fields.Float(allow_none=True, metadata={"description": "0-10."})
    net_promoter_score = ma.fields.Float(allow_none=True, metadata={
        "description": "From usefulness: % answering 9-10 minus % answering 0-6 (-100 to 100)."})


# --- the public form (url-encoded text, so not the JSON base schema) ----------------------------------

def _clean(value: str) -> None:
    if not jsonbody.is_clean(value):
        raise ma.ValidationError("Remove the unusual characters from this answer.")


class SurveyFormSchema(ma.Schema):
    """The form's fields, with the messages a respondent reads next to each one."""

    class Meta:
        unknown = ma.EXCLUDE  # the form's own extras (a submit button's name) are not an error

    confidence_before = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 5, error="Choose 1 to 5."),
                                          error_messages={"required": "Choose how confident you felt before.",
                                                          "invalid": "Choose 1 to 5."})
    confidence_after = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 5, error="Choose 1 to 5."),
                                         error_messages={"required": "Choose how confident you feel now.",
                                                         "invalid": "Choose 1 to 5."})
    usefulness = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 10, error="Choose 0 to 10."),
                                   error_messages={"required": "Choose how useful the session was.",
                                                   "invalid": "Choose 0 to 10."})
    next_step = ma.fields.String(load_default=None, validate=[
        ma.validate.Length(max=NEXT_STEP_MAX, error=f"Keep this under {NEXT_STEP_MAX} characters."), _clean])
    name = ma.fields.String(load_default=None, validate=[
        ma.validate.Length(max=NAME_MAX, error=f"Keep your name under {NAME_MAX} characters."), _clean])

    @ma.post_load
    def _blank_is_none(self, data, **_kwargs):
        for key in ("next_step", "name"):
            text = (data.get(key) or "").strip()
            data[key] = text or None
        return data
