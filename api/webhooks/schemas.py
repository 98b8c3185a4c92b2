"""Webhook endpoint and delivery request/response shapes."""

from __future__ import annotations

import json

import marshmallow as ma

from api.fields import PartialMixin, Schema, Text, Timestamp
from api.web import ListArgs
from api.webhooks.models import EVENT_TYPES

EVENTS_DESCRIPTION = (
    "Event types to receive (at least one): " + ", ".join(f"`{t}`" for t in EVENT_TYPES)
    + ". `contact.erased` is for programme-wide (coordinator) hooks only."
)


class WebhookSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    partner_id = ma.fields.String(
        dump_only=True, allow_none=True,
        metadata={"format": "uuid", "description": "The partner whose events this hook hears; null for a "
                                                   "programme-wide hook (registered by a coordinator)."})
    url = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=2000),
        metadata={"description": "Where events are POSTed: https to a public address (loopback http is "
                                 "allowed only in development and testing).",
                  "example": "https://partner.example.org/boardroom/webhooks"})
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(EVENT_TYPES)), required=True,
        validate=ma.validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": EVENTS_DESCRIPTION, "example": ["booking.created", "booking.status_changed"]})
    description = Text(500, metadata={"example": "Booking sync for our CRM"})
    active = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "false pauses deliveries (they wait, and resume when set back to true). "
                                 "Set to false by Boardroom when the target answers 410 Gone or has failed "
                                 "for 3 days, with the reason in `disabled_reason`."})
    disabled_reason = ma.fields.String(dump_only=True, allow_none=True)
    failing_since = Timestamp(dump_only=True, allow_none=True,
                              metadata={"description": "When deliveries started failing without a success since."})
    previous_secret_expires_at = Timestamp(
        dump_only=True, allow_none=True,
        metadata={"description": "After a rotation, until when the previous secret also signs deliveries."})
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)

    @ma.validates("events")
    def _unique_events(self, value, **_kwargs):
        if len(set(value)) != len(value):
            raise ma.ValidationError("List each event type once.")


class NewWebhookSchema(WebhookSchema):
    secret = ma.fields.String(
        dump_only=True,
        metadata={"description": "The signing secret (`whsec_` + base64). Shown in this response only: store it.",
                  "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class WebhookPatchSchema(PartialMixin, WebhookSchema):
    """Any subset of url, events, description, active."""

    active = ma.fields.Boolean(
        metadata={"description": "true re-enables a disabled hook (clears `disabled_reason`); false pauses it."})


class WebhookListArgs(ListArgs):
    active = ma.fields.Boolean()


class AttemptSchema(Schema):
    id = ma.fields.String(dump_only=True, metadata={"format": "uuid"})
    attempted_at = Timestamp()
    status_code = ma.fields.Integer(allow_none=True, metadata={"description": "Null when no response arrived."})
    duration_ms = ma.fields.Integer(metadata={"description": "From connecting to the end of the answer."})
    error = ma.fields.String(allow_none=True, metadata={"description": "Null when the attempt succeeded."})


class AttemptListArgs(ListArgs):
    pass


class DeliverySchema(Schema):
    id = ma.fields.String(metadata={"format": "uuid",
                                    "description": "Also the `webhook-id` header, the same on every retry."})
    webhook_id = ma.fields.String(attribute="endpoint_id", metadata={"format": "uuid"})
    event_id = ma.fields.String(metadata={"format": "uuid"})
    event_type = ma.fields.String(metadata={"example": "booking.created"})
    status = ma.fields.String(metadata={"description": "`pending` (will be tried at `next_attempt_at`), "
                                                       "`succeeded` or `failed` (gave up)."})
    attempt_count = ma.fields.Integer(attribute="attempts")
    last_status_code = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    next_attempt_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    payload = ma.fields.Method("_payload", metadata={"type": "object",
                                                     "description": "The body sent, exactly as signed."})
    attempts = ma.fields.List(ma.fields.Nested(AttemptSchema), attribute="attempt_log",
                              metadata={"description": "Each attempt, oldest first."})

    def _payload(self, delivery):
        return json.loads(delivery.payload)


class DeliveryListArgs(ListArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(("pending", "succeeded", "failed")))


# --- the `webhooks` section of the OpenAPI document (what a receiver gets) -------------------------

_SIGNATURE_HEADERS = {
    "webhook-id": {"description": "The message id: the same on every retry of this delivery, so use it to "
                                  "ignore duplicates (delivery is at least once).",
                   "required": True, "schema": {"type": "string"}},
    "webhook-timestamp": {"description": "Unix time (seconds) of this attempt. Reject messages more than a few "
                                         "minutes old or ahead to stop replays.",
                          "required": True, "schema": {"type": "string", "example": "1764151200"}},
    "webhook-signature": {
        "description": "Space-separated signatures, each `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-"
                       "timestamp}.{raw body}` keyed with the base64-decoded part of your secret after `whsec_` "
                       "(Standard Webhooks). Accept the message if any one matches. During the 24 hours after a "
                       "secret rotation there are two, one per secret.",
        "required": True, "schema": {"type": "string", "example": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}},
}

_BOOKING_DATA = {
    "type": "object",
    "description": "The booking as the subscriber may read it through `GET /api/v1/bookings/{id}`. Partner hooks "
                   "never receive `notes` or `attendee_ids`.",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "trust_id": {"type": "string", "format": "uuid"},
        "partner_id": {"type": ["string", "null"], "format": "uuid"},
        "external_ref": {"type": ["string", "null"]},
        "kind": {"type": "string", "enum": ["board_development", "masterclass", "follow_up"]},
        "format": {"type": "string", "enum": ["virtual", "in_person", "hybrid"]},
        "status": {"type": "string", "enum": ["requested", "provisional", "confirmed", "delivered", "cancelled"]},
        "starts_at": {"type": ["string", "null"], "format": "date-time",
                      "description": "Null while a request has no time yet."},
        "ends_at": {"type": ["string", "null"], "format": "date-time"},
        "preferred_windows": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}}}},
        "timezone": {"type": "string"},
        "title": {"type": "string"},
        "location": {"type": ["string", "null"]},
        "video_url": {"type": ["string", "null"]},
        "topics": {"type": "array", "items": {"type": "string"}},
        "brief": {"type": ["string", "null"]},
        "notes": {"type": ["string", "null"], "description": "Programme-wide hooks only."},
        "attendee_ids": {"type": "array", "items": {"type": "string"}, "description": "Programme-wide hooks only."},
        "speakers": {"type": "array", "items": {"type": "object"}},
        "sequence": {"type": "integer"},
        "cancel_reason": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": True,
}

_TIMES = {"created_at": {"type": "string", "format": "date-time"},
          "updated_at": {"type": "string", "format": "date-time"}}

_CHANGES = {
    "changed_fields": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                       "description": "The names of the fields this change changed (e.g. `starts_at`, `video_url`, "
                                      "`speakers`)."},
    "previous": {"type": "object", "additionalProperties": True,
                 "description": "The changed fields' values before the change, by name."},
}

_BOOKING_UPDATED_DATA = {
    **_BOOKING_DATA,
    "description": _BOOKING_DATA["description"] + " `changed_fields` names what changed and `previous` holds the "
                   "old values. A status change that also changed other fields sends `booking.status_changed` and "
                   "this event for the other fields.",
    "properties": {**_BOOKING_DATA["properties"], **_CHANGES},
    "required": ["id", "changed_fields", "previous"],
}

_BOOKING_STATUS_DATA = {
    **_BOOKING_DATA,
    "properties": {**_BOOKING_DATA["properties"], "previous_status": {
        "type": "string", "enum": ["requested", "provisional", "confirmed", "delivered", "cancelled"]}},
    "required": ["id", "status", "previous_status"],
}

_NEXT_STEP_DATA = {
    "type": "object",
    "description": "A next step of a delivered booking's outcome was changed (e.g. ticked done) through "
                   "`PATCH /api/v1/next-steps/{id}`, as `GET /api/v1/next-steps/{id}` shows it, with "
                   "`changed_fields` and `previous`. Partner hooks hear about their own bookings' steps.",
    "properties": {
        "id": {"type": "string", "format": "uuid"}, "outcome_id": {"type": "string", "format": "uuid"},
        "booking_id": {"type": "string", "format": "uuid"}, "trust_id": {"type": "string", "format": "uuid"},
        "description": {"type": "string"}, "owner": {"type": ["string", "null"]},
        "due_on": {"type": ["string", "null"], "format": "date"}, "done": {"type": "boolean"},
        "done_at": {"type": ["string", "null"], "format": "date-time"},
        **_TIMES,
        **_CHANGES,
    },
    "required": ["id", "booking_id", "changed_fields", "previous"],
    "additionalProperties": True,
}

_CHANGE_REQUEST_DATA = {
    "type": "object",
    "description": "A change request as `GET /api/v1/change-requests/{id}` shows it. Only the fields named in "
                   "`requested_fields` are asked to change.",
    "properties": {
        "id": {"type": "string", "format": "uuid"}, "booking_id": {"type": "string", "format": "uuid"},
        "partner_id": {"type": ["string", "null"], "format": "uuid"},
        "status": {"type": "string", "enum": ["open", "accepted", "declined"]},
        "requested_fields": {"type": "array", "items": {"type": "string"}},
        "starts_at": {"type": ["string", "null"], "format": "date-time"},
        "ends_at": {"type": ["string", "null"], "format": "date-time"},
        "format": {"type": ["string", "null"], "enum": ["virtual", "in_person", "hybrid", None]},
        "location": {"type": ["string", "null"]}, "video_url": {"type": ["string", "null"]},
        "message": {"type": ["string", "null"]}, "response": {"type": ["string", "null"]},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        **_TIMES,
    },
    "required": ["id", "booking_id", "status"],
    "additionalProperties": True,
}

_REGISTRATION_DATA = {
    "type": "object",
    "description": "A masterclass registration was made or changed (registered, waitlisted, moved up from the "
                   "waiting list, cancelled, attended, no-show), as `GET /api/v1/registrations/{id}` shows it to "
                   "the subscriber. Partner hooks hear only about registrations they made, with the `name` and "
                   "`email` they gave and without `contact_id`.",
    "properties": {
        "id": {"type": "string", "format": "uuid"}, "booking_id": {"type": "string", "format": "uuid"},
        "contact_id": {"type": "string", "format": "uuid", "description": "Programme-wide hooks only."},
        "trust_id": {"type": ["string", "null"], "format": "uuid"},
        "name": {"type": "string", "description": "Partner hooks: the name the partner gave."},
        "email": {"type": "string", "description": "Partner hooks: the email the partner gave."},
        "status": {"type": "string", "enum": ["registered", "waitlisted", "cancelled", "attended", "no_show"]},
        "position": {"type": ["integer", "null"], "description": "Place on the waiting list while `waitlisted`."},
        **_TIMES,
    },
    "required": ["id", "booking_id", "status"],
    "additionalProperties": True,
}

_NEXT_STEP = {"type": "object", "properties": {
    "description": {"type": "string"}, "owner": {"type": ["string", "null"]},
    "due_on": {"type": ["string", "null"], "format": "date"}, "done": {"type": "boolean"}}}

_OUTCOME_DATA = {
    "type": "object",
    "description": "The outcome of a delivered booking. Partner hooks receive only `booking_id`, `summary` and "
                   "`next_steps`; programme-wide hooks receive the whole outcome.",
    "properties": {"booking_id": {"type": "string", "format": "uuid"}, "summary": {"type": ["string", "null"]},
                   "next_steps": {"type": "array", "items": _NEXT_STEP}},
    "additionalProperties": True,
}

_CONTACT_ERASED_DATA = {
    "type": "object",
    "description": "A board contact was anonymised (right to erasure): delete what you hold about them.",
    "properties": {"id": {"type": "string", "format": "uuid"}, "trust_id": {"type": "string", "format": "uuid"}},
    "additionalProperties": True,
}

_REGISTRATION_DATA = {
    "type": "object",
    "description": "A masterclass registration was made or changed status (registered, waitlisted, cancelled, "
                   "attended, no_show; moving up from the waiting list too). Sent to the partner that made it "
                   "(without `contact_id`) and to programme-wide hooks.",
    "properties": {"id": {"type": "string", "format": "uuid"}, "booking_id": {"type": "string", "format": "uuid"},
                   "trust_id": {"type": "string", "format": "uuid"}, "status": {"type": "string"},
                   "position": {"type": "integer"}, "previous_status": {"type": ["string", "null"]}},
    "additionalProperties": True,
}

_PING_DATA = {"type": "object", "properties": {"webhook_id": {"type": "string", "format": "uuid"},
                                               "message": {"type": "string"}}}

_EVENTS = {
    "booking.created": ("A booking was created", _BOOKING_DATA),
    "booking.updated": ("A booking's details, time, speakers or attendees changed", _BOOKING_UPDATED_DATA),
    "booking.status_changed": ("A booking moved to another status (e.g. requested to confirmed)",
                               _BOOKING_STATUS_DATA),
    "booking.cancelled": ("A booking was cancelled", _BOOKING_STATUS_DATA),
    "outcome.recorded": ("A delivered booking's outcome was recorded or changed", _OUTCOME_DATA),
    "next_step.updated": ("A next step was changed or ticked done", _NEXT_STEP_DATA),
    "booking.change_requested": ("A partner asked to change a booking", _CHANGE_REQUEST_DATA),
    "change_request.resolved": ("A change request was accepted or declined", _CHANGE_REQUEST_DATA),
    "registration.changed": ("A masterclass registration was made or changed", _REGISTRATION_DATA),
    "contact.erased": ("A contact was erased (programme-wide hooks only)", _CONTACT_ERASED_DATA),
    "registration.changed": ("A masterclass registration was made or changed status", _REGISTRATION_DATA),
    "ping": ("A test event, sent by POST /api/v1/webhooks/{id}/test", _PING_DATA),
}


def _event_schema(event_type: str, data: dict) -> dict:
    return {
        "type": "object",
        "required": ["id", "type", "api_version", "occurred_at", "data"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The event's id (the same for every hook)."},
            "type": {"type": "string", "const": event_type},
            "api_version": {"type": "string", "const": "2026-11-01",
                            "description": "The payload's version; a breaking change gets a new one."},
            "occurred_at": {"type": "string", "format": "date-time"},
            "data": data,
        },
    }


def register_openapi(spec) -> None:
    """Describe every event in the OpenAPI 3.1 ``webhooks`` section: payload, headers, expected answers."""
    webhooks = {}
    for event_type, (summary, data) in _EVENTS.items():
        name = "WebhookEvent" + "".join(part.title() for part in event_type.replace(".", "_").split("_"))
        spec.components.schema(name, _event_schema(event_type, data))
        webhooks[event_type] = {"post": {
            "operationId": "on_" + event_type.replace(".", "_"),
            "summary": summary,
            "description": (
                f"POSTed as JSON to each active hook subscribed to `{event_type}`. Answer any 2xx within 10 seconds "
                "(do slow work later). Anything else, a timeout or a redirect (never followed) is retried with "
                "exponential backoff: 5 s, 10 s, 20 s... doubling, up to 15 attempts over about 23 hours, always "
                "with the same `webhook-id`. 410 Gone disables the hook; so do 3 days without a success."),
            "security": [],
            "parameters": [{"in": "header", "name": name_, **header} for name_, header in _SIGNATURE_HEADERS.items()],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"}}}},
            "responses": {"2XX": {"description": "Received; any 2xx status is success."},
                          "410": {"description": "Gone: Boardroom disables this hook and stops sending."}},
        }}
    spec.options.setdefault("webhooks", {}).update(webhooks)
