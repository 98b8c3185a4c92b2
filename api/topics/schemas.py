"""Topic shapes."""

import marshmallow as ma

from api.fields import PartialMixin, Schema, Text, Timestamp, validate_slug


class TopicSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    slug = ma.fields.String(required=True, validate=validate_slug, metadata={"example": "user-centred-design"})
    name = Text(200, required=True, metadata={"example": "User-centred design"})
    description = Text(5000, metadata={"example": "Designing services around the needs of patients and staff."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class TopicPatchSchema(PartialMixin, TopicSchema):
    """Any subset of a topic's fields."""
