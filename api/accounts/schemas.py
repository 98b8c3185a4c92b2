"""Partner and token shapes."""

from __future__ import annotations

import marshmallow as ma

from api.accounts.models import ROLES
from api.fields import IdString, PartialMixin, Schema, Text, Timestamp, validate_slug
from api.web import ListArgs


class PartnerSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    name = Text(200, required=True, metadata={"example": "NHS Providers"})
    slug = ma.fields.String(required=True, validate=validate_slug, metadata={"example": "nhs-providers"})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class PartnerPatchSchema(PartialMixin, PartnerSchema):
    """Any subset of a partner's fields."""


class TokenSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    name = Text(200, required=True, metadata={"example": "NHS Providers booking system"})
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES), metadata={"example": "partner"})
    partner_id = IdString(allow_none=True, metadata={"description": "Required for (and only for) partner tokens."})
    prefix = ma.fields.String(dump_only=True, metadata={"description": "The token's first characters, to recognise it."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)
    revoked_at = Timestamp(dump_only=True, allow_none=True)


class NewTokenSchema(TokenSchema):
    token = ma.fields.String(dump_only=True, metadata={
        "description": "The bearer token. Shown only in this response: it is stored hashed and cannot be shown again."})


class TokenListArgs(ListArgs):
    include_revoked = ma.fields.Boolean(load_default=False)
