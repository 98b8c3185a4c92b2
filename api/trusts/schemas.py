"""Trust and contact request/response shapes."""

from __future__ import annotations

import marshmallow as ma

from api.fields import HttpUrl, PartialMixin, Schema, Text, TimeZoneName, Timestamp
from api.trusts.ics import CODES
from api.trusts.models import REGIONS, TRUST_TYPES
from api.web import ListArgs, split_csv

ODS_RE = r"^[A-Za-z0-9]{3,5}$"
UNKNOWN_ICS = "Not an integrated care system code; GET /api/v1/integrated-care-systems lists them."


class TrustSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    name = Text(200, required=True, metadata={"example": "Leeds Teaching Hospitals NHS Trust"})
    ods_code = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(ODS_RE, error="Must be 3 to 5 letters or digits."),
        metadata={"description": "NHS ODS code; stored upper case and unique.", "example": "RR8"},
    )
    region = ma.fields.String(required=True, validate=ma.validate.OneOf(REGIONS),
                              metadata={"example": "north_east_and_yorkshire"})
    trust_type = ma.fields.String(load_default="other", validate=ma.validate.OneOf(TRUST_TYPES),
                                  metadata={"example": "acute"})
    ics = Text(200, metadata={
        "description": "Integrated care system name. With `ics_code` set it is that system's name (sending another "
                       "name is 422; clear `ics_code` to write free text); without it, free text.",
        "example": "West Yorkshire"})
    ics_code = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(CODES, error=UNKNOWN_ICS), metadata={
        "description": "The trust's integrated care system: a `code` from `GET /api/v1/integrated-care-systems` "
                       "(the ODS code of its integrated care board). Setting it sets `ics` to the system's name.",
        "example": "QWO"})
    website = HttpUrl(allow_none=True, validate=ma.validate.Length(max=500),
                      metadata={"example": "https://www.leedsth.nhs.uk"})
    timezone = TimeZoneName(load_default="Europe/London")
    notes = Text(20000, metadata={"description": "Internal notes; never shown to partners."})
    archived_at = Timestamp(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)
    engagement = ma.fields.Nested(lambda: EngagementSchema(), dump_only=True, metadata={
        "description": "Coordinators and viewers reading one trust: its sessions, last interaction and open next steps."})

    @ma.post_load
    def _upper_ods(self, data, **_kwargs):
        if "ods_code" in data:
            data["ods_code"] = data["ods_code"].upper()
        return data


class EngagementSchema(Schema):
    sessions_delivered = ma.fields.Integer()
    sessions_upcoming = ma.fields.Integer(metadata={"description": "Requested, provisional or confirmed, still to come."})
    last_interaction_at = Timestamp(allow_none=True)
    open_next_steps = ma.fields.Integer()
    classes_attended = ma.fields.Integer(metadata={
        "description": "Masterclass places its board members attended (any trust's class)."})


class TrustPatchSchema(PartialMixin, TrustSchema):
    """Any subset of a trust's fields."""


class TrustListArgs(ListArgs):
    region = ma.fields.String(validate=ma.validate.OneOf(REGIONS))
    trust_type = ma.fields.String(validate=ma.validate.OneOf(TRUST_TYPES))
    q = ma.fields.String(validate=ma.validate.Length(max=200),
                         metadata={"description": "Matches name (contains, any case) or ODS code (exact)."})
    engaged = ma.fields.Boolean(metadata={"description": "true: only trusts with a delivered booking; false: only those without."})
    ics_code = ma.fields.String(validate=ma.validate.Length(max=200), metadata={
        "description": "Comma-separated integrated care system codes: trusts in any of them.", "example": "QWO,QOQ"})
    include_archived = ma.fields.Boolean(load_default=False)

    @ma.validates("ics_code")
    def _ics_codes(self, value, **_kwargs):
        unknown = [code for code in split_csv(value) if code not in CODES]
        if unknown or not split_csv(value):
            raise ma.ValidationError(UNKNOWN_ICS)


class IntegratedCareSystemSchema(Schema):
    code = ma.fields.String(metadata={"description": "ODS code of the system's integrated care board.",
                                      "example": "QWO"})
    name = ma.fields.String(metadata={"example": "West Yorkshire"})
    region = ma.fields.String(metadata={"enum": list(REGIONS), "example": "north_east_and_yorkshire"})


class IntegratedCareSystemListArgs(Schema):
    region = ma.fields.String(validate=ma.validate.OneOf(REGIONS))
    updated_since = Timestamp(metadata={
        "description": "Reference data changes only with a release: systems changed at or after this time (none "
                       "after their establishment on 1 July 2022 in this release)."})
    sort = ma.fields.String(validate=ma.validate.OneOf(["code", "-code", "name", "-name", "region", "-region"]),
                            metadata={"description": "`code`, `name` (the default) or `region`; `-` for descending."})


class ContactSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    trust_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    name = Text(200, required=True, metadata={"example": "Dr Siân Williams"})
    role = Text(200, metadata={"example": "Chief Digital Officer"})
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=320),
                            metadata={"example": "sian.williams@nhs.net"})
    phone = Text(50, metadata={"example": "+44 113 243 3144"})
    notes = Text(20000)
    email_opt_out = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: this person is sent no invitation emails (they can still be given a feed)."})
    erased_at = Timestamp(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class ContactPatchSchema(PartialMixin, ContactSchema):
    """Any subset of a contact's fields."""


class ContactListArgs(ListArgs):
    q = ma.fields.String(validate=ma.validate.Length(max=200), metadata={"description": "Name contains."})
