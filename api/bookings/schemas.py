"""Booking request/response shapes."""

from __future__ import annotations

import marshmallow as ma

from api.bookings.models import FORMATS, KINDS, SPEAKER_ROLES, STATUSES
from api.fields import HttpUrl, IdString, PartialMixin, Schema, SessionTime, SlugList, Text, TimeZoneName, Timestamp
from api.trusts.models import REGIONS
from api.web import ListArgs


class RelatedIds(ma.fields.List):
    """Ids of related objects on output (``attendees`` -> ids); a list of ids on input."""

    def __init__(self, relation: str, **kwargs):
        self.relation = relation
        super().__init__(IdString(), **kwargs)

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        related = getattr(obj, self.relation, ma.missing)  # hidden on a redacted view: field left out
        if related is ma.missing:
            return ma.missing
        return [item.id for item in related]


class SpeakerSlots(ma.fields.List):
    """A booking's speakers, earliest slot first (then by name), also before the rows are reloaded."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        slots = getattr(obj, "speakers", ma.missing)
        if slots is ma.missing:
            return ma.missing
        return sorted(slots, key=lambda slot: (slot.starts_at, slot.speaker.name, slot.speaker_id))


class BookingSpeakerSchema(Schema):
    speaker_id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    name = ma.fields.Function(lambda slot: slot.speaker.name, metadata={"example": "Dr Amara Okafor"})
    role = ma.fields.String(dump_only=True, metadata={"enum": list(SPEAKER_ROLES), "example": "guest"})
    starts_at = Timestamp(dump_only=True)
    ends_at = Timestamp(dump_only=True)


class PreferredWindowSchema(Schema):
    from_ = SessionTime(data_key="from", required=True, metadata={"example": "2027-03-01T09:00:00Z"})
    to = SessionTime(required=True, metadata={"example": "2027-03-05T17:00:00Z"})

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["to"] <= data["from_"]:
            raise ma.ValidationError("Must be after from.", "to")


class PreferredWindows(ma.fields.List):
    """A request's windows: loaded as times, stored (and so dumped) as ``[{"from", "to"}]`` UTC texts.

    A window is whole in every body: a PATCH (whose schema is partial) replaces the list, and marshmallow would
    otherwise pass its partial loading down to each window and let one without ``to`` through."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **{**kwargs, "partial": False})

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else [dict(window) for window in value]


class BookingSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    trust_id = IdString(allow_none=True, metadata={
        "description": "Required, except for a masterclass open to board members of many trusts (null)."})
    partner_id = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "format": "uuid", "description": "Set from the token when a partner creates the booking."})
    external_ref = Text(200, metadata={"description": "The partner's own reference; unique per partner.",
                                       "example": "NHSP-2026-0142"})
    kind = ma.fields.String(load_default="board_development", validate=ma.validate.OneOf(KINDS))
    format = ma.fields.String(load_default="virtual", validate=ma.validate.OneOf(FORMATS))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES), metadata={
        "description": "Defaults to `requested`. Partners may only create `requested` bookings."})
    starts_at = SessionTime(allow_none=True, metadata={
        "description": "Required unless `preferred_windows` is given: a request without a time stays `requested` "
                       "with `starts_at: null` until the programme team sets one.",
        "example": "2026-03-05T10:00:00Z"})
    ends_at = SessionTime(allow_none=True, metadata={
        "description": "Defaults to `starts_at` + 180 minutes; at most 12 hours after `starts_at` (422). "
                       "Null while `starts_at` is.", "example": "2026-03-05T13:00:00Z"})
    preferred_windows = PreferredWindows(
        ma.fields.Nested(PreferredWindowSchema), allow_none=True, validate=ma.validate.Length(min=1, max=5),
        metadata={"description": "A request without a time: 1–5 windows, each in the future and within 18 months, "
                                 "in which the session could take place. Kept once a time is set."})
    timezone = TimeZoneName(metadata={"description": "IANA zone the session is held in; defaults to the trust's."})
    title = Text(300, allow_none=False, metadata={"description": "Defaults to `Board development session: <trust name>`."})
    location = Text(500, metadata={"description": "Required unless `format` is `virtual`.",
                                   "example": "Boardroom, St James's University Hospital, Leeds"})
    video_url = HttpUrl(allow_none=True, validate=ma.validate.Length(max=1000),
                        metadata={"example": "https://teams.microsoft.com/l/meetup-join/abc"})
    topics = SlugList(load_default=list)
    brief = Text(20000, metadata={"description": "Tailoring notes shared with speakers."})
    notes = Text(20000, metadata={"description": "Internal notes; never shown to or set by partners."})
    attendee_ids = RelatedIds("attendees", validate=ma.validate.Length(max=200), metadata={
        "description": "Board contacts (of the same trust) attending. Not shown to or set by partners."})
    speakers = SpeakerSlots(ma.fields.Nested(BookingSpeakerSchema), dump_only=True, metadata={
        "description": "Set with PUT /bookings/{id}/speakers/{speaker_id}."})
    sequence = ma.fields.Integer(dump_only=True, metadata={
        "description": "Grows when the time, format, location or video link changes and on cancellation."})
    cancel_reason = Text(2000)
    capacity = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(1, 500), metadata={
        "description": "Masterclasses only: seats (1-500, default 30); null for other kinds.", "example": 30})
    registered_count = ma.fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "Masterclasses: places taken (registered, attended or no-show); null for other kinds."})
    waitlisted_count = ma.fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "Masterclasses: people on the waiting list; null for other kinds."})
    seats_left = ma.fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "Masterclasses: capacity minus places taken (never below 0); null for other kinds."})
    cancelled_at = Timestamp(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")


class BookingPatchSchema(PartialMixin, BookingSchema):
    """Any subset of a booking's fields (not its trust); `status` moves it through its lifecycle."""

    class Meta(BookingSchema.Meta):
        exclude = ("trust_id",)

    override_availability = ma.fields.Boolean(load_only=True, load_default=False, metadata={
        "description": "When rescheduling: allow speaker slots outside the speakers' availability."})


class BookingListArgs(ListArgs):
    trust_id = IdString()
    speaker_id = IdString()
    status = ma.fields.String(validate=ma.validate.Length(max=200), metadata={
        "description": "Comma-separated statuses. Cancelled bookings are listed only when named here or "
                       "with `updated_since`."})
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    format = ma.fields.String(validate=ma.validate.OneOf(FORMATS))
    region = ma.fields.String(validate=ma.validate.OneOf(REGIONS), metadata={"description": "The trust's region."})
    from_ = Timestamp(data_key="from", metadata={"description": "Only bookings ending after this time."})
    to = Timestamp(metadata={"description": "Only bookings starting before this time."})
    external_ref = ma.fields.String(validate=ma.validate.Length(max=200))
    partner_id = IdString(metadata={"description": "Coordinators and viewers: bookings made by this partner."})

    @ma.validates("status")
    def _statuses(self, value, **_kwargs):
        unknown = [s for s in value.split(",") if s.strip() and s.strip() not in STATUSES]
        if unknown:
            raise ma.ValidationError(f"Unknown status {', '.join(unknown)}; use {', '.join(STATUSES)}.")

    @ma.validates_schema
    def _range(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["to"] <= data["from_"]:
            raise ma.ValidationError("Must be after from.", "to")


class SpeakerSlotSchema(Schema):
    role = ma.fields.String(load_default="guest", validate=ma.validate.OneOf(SPEAKER_ROLES))
    starts_at = SessionTime(metadata={"description": "The speaker's slot; omit both for the whole booking."})
    ends_at = SessionTime()
    override_availability = ma.fields.Boolean(load_default=False, metadata={
        "description": "Allow a slot outside the speaker's availability (never an overlap)."})

    @ma.validates_schema
    def _slot(self, data, **_kwargs):
        start, end = data.get("starts_at"), data.get("ends_at")
        if (start is None) != (end is None):
            raise ma.ValidationError("Give both starts_at and ends_at, or neither for the whole booking.",
                                     "ends_at" if start else "starts_at")
        if start is not None and end <= start:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")
