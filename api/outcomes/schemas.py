"""Outcome and next-step shapes."""

from __future__ import annotations

import marshmallow as ma

from api.fields import Day, IdString, PartialMixin, Schema, SlugList, Text, Timestamp
from api.web import ListArgs


class OutcomeStepSchema(Schema):
    """A next step inside an outcome: send `id` to keep (and update) an existing step, omit it for a new one."""

    id = IdString(metadata={"description": "An existing step of this outcome to keep; omit for a new step."})
    description = Text(2000, required=True, metadata={"example": "Agree a digital strategy refresh at the March board."})
    owner = Text(200, metadata={"example": "Chief Executive"})
    due_on = Day(allow_none=True, metadata={"example": "2026-03-31"})
    done = ma.fields.Boolean(load_default=False)
    done_at = Timestamp(dump_only=True, allow_none=True)


class NextStepSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    outcome_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    booking_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    trust_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    description = Text(2000, required=True, metadata={"example": "Agree a digital strategy refresh at the March board."})
    owner = Text(200, metadata={"example": "Chief Executive"})
    due_on = Day(allow_none=True, metadata={"example": "2026-03-31"})
    done = ma.fields.Boolean(metadata={"description": "Setting it true records `done_at`; false clears it."})
    done_at = Timestamp(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class NextStepPatchSchema(PartialMixin, NextStepSchema):
    """Any subset of a next step's fields."""


class OutcomeSchema(Schema):
    """What a board took away from a delivered session (partners see only `summary` and `next_steps`)."""

    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    booking_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    summary = Text(20000, metadata={"example": "The board agreed digital is about services, not IT."})
    attendance = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=0, max=10000),
                                   metadata={"description": "People in the room.", "example": 14})
    themes = SlugList(load_default=list, metadata={"description": "Topic slugs the session covered.",
                                                   "example": ["what-digital-means", "prioritisation"]})
    digital_definitions = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=1000)),
                                         load_default=list, validate=ma.validate.Length(max=200),
                                         metadata={"description": "What digital meant to the people in the room.",
                                                   "example": ["Redesigning services around patients"]})
    next_steps = ma.fields.List(ma.fields.Nested(OutcomeStepSchema), load_default=list,
                                validate=ma.validate.Length(max=200),
                                metadata={"description": "Replaces the list; steps sent with an `id` keep it."})
    confidence_before = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(1, 5), metadata={"example": 2})
    confidence_after = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(1, 5), metadata={"example": 4})
    feedback_score = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(0, 10), metadata={"example": 9})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class OutcomeStepPatchSchema(PartialMixin, OutcomeStepSchema):
    """A next step in an outcome PATCH: with `id`, only the fields sent change; without, a new step
    (`description` required)."""


class OutcomePatchSchema(PartialMixin, OutcomeSchema):
    """Any subset of an outcome's fields; `next_steps`, when sent, replaces the list (steps keep their
    `id`; steps left out are removed)."""

    next_steps = ma.fields.List(ma.fields.Nested(OutcomeStepPatchSchema), validate=ma.validate.Length(max=200),
                                metadata={"description": "Replaces the list: a step sent with its `id` keeps it "
                                                         "and changes only the fields sent; a step without `id` "
                                                         "is new; steps left out are removed."})


class NextStepListArgs(ListArgs):
    done = ma.fields.Boolean()
    due_before = Day(metadata={"description": "Only steps due before this date (YYYY-MM-DD)."})
    trust_id = IdString()
