"""Audit event shapes."""

from __future__ import annotations

import marshmallow as ma

from api.fields import Schema, Timestamp
from api.web import ListArgs


class AuditEventSchema(Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    occurred_at = Timestamp()
    actor = ma.fields.Method("_actor", metadata={"type": "object", "properties": {
        "token_id": {"type": ["string", "null"]}, "name": {"type": "string"}, "role": {"type": "string"}}})
    entity_type = ma.fields.String(metadata={"example": "trust"})
    entity_id = ma.fields.String(metadata={"format": "uuid"})
    action = ma.fields.String(metadata={"example": "update",
                                        "description": "create, update, status_change, archive, erase, revoke, ..."})
    changes = ma.fields.Dict(metadata={"description": '`{"field": {"before": x, "after": y}}`; email and phone '
                                                      'values are masked.'})

    def _actor(self, event):
        return {"token_id": event.actor_token_id, "name": event.actor_name, "role": event.actor_role}


class AuditListArgs(ListArgs):
    entity_type = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"example": "trust"})
    entity_id = ma.fields.String(validate=ma.validate.Length(max=36))
    action = ma.fields.String(validate=ma.validate.Length(max=40))
    actor = ma.fields.String(validate=ma.validate.Length(max=200),
                             metadata={"description": "A token id or a token name (exact)."})
    occurred_from = Timestamp(data_key="from", metadata={"description": "At or after this time."})
    occurred_to = Timestamp(data_key="to", metadata={"description": "Before this time."})
