"""Shared marshmallow fields and base schemas (shape and format only, never queries)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

import marshmallow as ma

_TIMEZONES = frozenset(available_timezones())


class Schema(ma.Schema):
    """Base schema: unknown fields are an error (422), field order is kept, and JSON types are taken as the
    document states them: a boolean is ``true`` or ``false`` (not ``0`` or ``"yes"``), a number is a JSON
    number (not ``"5"`` or ``true``). Query strings are text; their parser turns ``true``/``false`` and
    integers into JSON values first (``api.web.StrictQueryParser``)."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def _json_types(self, data, **_kwargs):
        if not isinstance(data, Mapping):
            return data
        wrong = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if key not in data or data[key] is None:
                continue
            message = json_type_error(field, data[key])
            if message:
                wrong[key] = [message]
        if wrong:
            raise ma.ValidationError(wrong)
        return data


def json_type_error(field: ma.fields.Field, value) -> str | None:
    """Why ``value`` is not the JSON type ``field`` takes (marshmallow alone would coerce it), or None."""
    if isinstance(field, ma.fields.Boolean) and not isinstance(value, bool):
        return "Not a valid boolean: use true or false."
    if isinstance(field, ma.fields.Number) and (isinstance(value, (bool, str)) or not isinstance(value, (int, float))):
        return "Not a valid number."
    if isinstance(field, ma.fields.Integer) and isinstance(value, float) and not value.is_integer():
        return "Not a valid integer."  # marshmallow would cut 2.5 down to 2
    return None


# Times and dates a client may send: years 1900 to 9998. The SPEC rejects anything outside 1900-9999;
# the last year is refused too, so that arithmetic on an accepted time (a booking's default end, the day
# after a `to` date, a feed's window) can never overflow Python's datetime.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)
_OUT_OF_RANGE = f"Must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()} (UTC)."


class Timestamp(ma.fields.AwareDateTime):
    """An RFC 3339 time: an offset is required on input; output is always UTC with ``Z``."""

    default_error_messages = {
        "invalid": "Not a valid RFC 3339 time.",
        "invalid_awareness": "A time needs an offset or Z, e.g. 2026-03-05T10:00:00+00:00.",
        "out_of_range": _OUT_OF_RANGE,
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
        try:
            result = result.astimezone(timezone.utc)  # 0001-01-01T00:00+01:00 has no UTC equivalent
        except OverflowError:
            raise self.make_error("out_of_range") from None
        if not FIRST_DAY <= result.date() <= LAST_DAY:
            raise self.make_error("out_of_range")
        return result


class Day(ma.fields.Date):
    """A calendar date, ``YYYY-MM-DD``, in the years a Timestamp accepts."""

    default_error_messages = {"out_of_range": _OUT_OF_RANGE.replace(" (UTC)", "")}

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= result <= LAST_DAY:
            raise self.make_error("out_of_range")
        return result


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
    """For PATCH bodies: every field optional, and no defaults — neither applied nor declared.

    A PATCH changes only what it names. A default in the document would make a generated client
    send that field on every PATCH (openapi-python-client) or require it (openapi-typescript), and
    so change a field nobody asked to change: the create schema's defaults are dropped here.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.load_default = ma.missing


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
