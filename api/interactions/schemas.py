"""Interaction shapes."""

from __future__ import annotations

import marshmallow as ma

from api.fields import IdString, PartialMixin, Schema, Text, Timestamp
from api.trusts.models import INTERACTION_KINDS
from api.web import ListArgs


class IdList(ma.fields.List):
    """Related objects by id: dumps objects as their ids, loads a list of id strings."""

    def __init__(self, **kwargs):
        super().__init__(IdString(), validate=ma.validate.Length(max=100), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return [getattr(item, "id", item) for item in value]


class InteractionSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    trust_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(INTERACTION_KINDS),
                            metadata={"example": "interview"})
    occurred_at = Timestamp(required=True)
    summary = Text(20000, required=True, metadata={"example": "Pre-session interview: the chair wants to focus on "
                                                              "prioritisation."})
    contact_ids = IdList(attribute="contacts", load_default=list,
                         metadata={"description": "Contacts of this trust who took part."})
    booking_id = IdString(allow_none=True, metadata={"description": "A booking of this trust it relates to."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class InteractionPatchSchema(PartialMixin, InteractionSchema):
    """Any subset of an interaction's fields."""


class InteractionListArgs(ListArgs):
    kind = ma.fields.String(validate=ma.validate.OneOf(INTERACTION_KINDS))
    contact_id = IdString()
    booking_id = IdString()
    occurred_from = Timestamp(data_key="from", metadata={"description": "Only interactions at or after this time."})
    occurred_to = Timestamp(data_key="to", metadata={"description": "Only interactions before this time."})
