"""Shared marshmallow fields and base schemas (shape and format only, never queries)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

import marshmallow as ma

_TIMEZONES = frozenset(available_timezones())


class Schema(ma.Schema):
    """Base schema: unknown fields are an error (422), field order is kept."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class Timestamp(ma.fields.AwareDateTime):
    """An RFC 3339 time: an offset is required on input; output is always UTC with ``Z``."""

    default_error_messages = {
        "invalid": "Not a valid RFC 3339 time.",
        "invalid_awareness": "A time needs an offset or Z, e.g. 2026-03-05T10:00:00+00:00.",
    }

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        metadata.setdefault("example", "2026-03-05T10:00:00Z")
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return to_utc_text(value)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 1 <= result.year <= 9998:
            raise self.make_error("invalid")
        return result.astimezone(timezone.utc)


def to_utc_text(value: datetime) -> str:
    value = value.astimezone(timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(fmt)


class TimeZoneName(ma.fields.String):
    """An IANA time zone name such as Europe/London."""

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        metadata.setdefault("description", "IANA time zone name.")
        metadata.setdefault("example", "Europe/London")
        super().__init__(validate=validate_timezone, metadata=metadata, **kwargs)


def validate_timezone(value: str) -> None:
    if value not in _TIMEZONES:
        raise ma.ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/London).")


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class IdString(ma.fields.String):
    """A reference to another object by id (a UUID string); a malformed one is a 422."""

    default_error_messages = {"invalid_uuid": "Not a valid id."}

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        metadata.setdefault("format", "uuid")
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise self.make_error("invalid_uuid") from None


def Text(max_length: int, *, required: bool = False, allow_none: bool = True, **kwargs) -> ma.fields.String:
    """A string with a length cap; blank means nothing for optional text."""
    return ma.fields.String(required=required, allow_none=allow_none and not required,
                            validate=ma.validate.Length(min=1 if required else 0, max=max_length), **kwargs)


class HttpUrl(ma.fields.Url):
    def __init__(self, **kwargs):
        super().__init__(schemes={"http", "https"}, require_tld=False, **kwargs)


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def validate_slug(value: str) -> None:
    if not SLUG_RE.match(value) or len(value) > 64:
        raise ma.ValidationError("Use lower-case letters, digits and single hyphens, e.g. nhs-providers.")


class PartialMixin:
    """For PATCH bodies: every field optional, defaults not applied."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class SlugList(ma.fields.List):
    """Topics by slug: dumps related objects as their slugs, loads a list of slug strings."""

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        metadata.setdefault("example", ["what-digital-means", "user-centred-design"])
        super().__init__(ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
                         validate=ma.validate.Length(max=50), metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return [getattr(item, "slug", item) for item in value]


EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2200, 1, 1, tzinfo=timezone.utc)


def plausible_time(value: datetime) -> None:
    """Session times between 2000 and 2200: the programme's history starts in 2020."""
    if not EARLIEST <= value < LATEST:
        raise ma.ValidationError("Must be between 2000 and 2200.")


def SessionTime(**kwargs) -> Timestamp:  # noqa: N802 - reads as a field class
    """A booking's or slot's time: a ``Timestamp`` between 2000 and 2200."""
    return Timestamp(validate=plausible_time, **kwargs)
