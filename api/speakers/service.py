"""Speaker rules: partner redaction, topics by slug, weekly availability in the speaker's zone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from api import audit
from api.auth import Principal
from api.errors import NotFound, ValidationFailed
from api.speakers.models import AvailabilityException, AvailabilityWindow, Speaker
from api.topics.models import Topic
from api.topics.service import resolve_slugs
from api.trusts.models import Trust
from api.web import Redacted, apply_sort

FIELDS = ("name", "email", "phone", "organisation", "trust_id", "bio", "timezone", "active", "email_opt_out", "topics")
PARTNER_HIDDEN = frozenset({"email", "phone", "email_opt_out"})
SORTS = {"id": Speaker.id, "name": Speaker.name, "organisation": Speaker.organisation,
         "created_at": Speaker.created_at, "updated_at": Speaker.updated_at}


def present(speaker: Speaker, principal: Principal) -> Any:
    return Redacted(speaker, PARTNER_HIDDEN) if principal.is_partner else speaker


def view(principal: Principal) -> str:
    return "partner" if principal.is_partner else "full"


def _snapshot(speaker: Speaker) -> dict:
    data = audit.snapshot(speaker, FIELDS[:-1])
    data["topics"] = sorted(t.slug for t in speaker.topics)
    return data


def list_speakers(session: Session, principal: Principal, args: dict) -> Select:
    stmt = select(Speaker).options(selectinload(Speaker.topics))
    if "updated_since" in args:
        stmt = stmt.where(Speaker.updated_at >= args["updated_since"])
    if "active" in args:
        stmt = stmt.where(Speaker.active.is_(args["active"]))
    if args.get("topic"):
        stmt = stmt.where(Speaker.topics.any(Topic.slug == args["topic"]))
    if args.get("q"):
        q = args["q"].strip().lower()
        stmt = stmt.where(or_(func.lower(Speaker.name).contains(q, autoescape=True),
                              func.lower(Speaker.organisation).contains(q, autoescape=True)))
    if args.get("available_from"):
        ids = AVAILABILITY.speaker_ids(session, stmt, args["available_from"], args["available_to"],
                                       partner_id=principal.partner_id if principal.is_partner else None)
        stmt = stmt.where(Speaker.id.in_(ids))
    return apply_sort(stmt, args.get("sort"), SORTS, default=[Speaker.name])


@dataclass
class Availability:
    """Which speakers are available and free for a range: scheduling's rule (it reads speakers' windows and
    their booked slots, so it sits above this package), registered by ``create_app``."""

    speaker_ids: Callable[..., list[str]] | None = None  # (session, candidates, start, end, partner_id=None)


AVAILABILITY = Availability()


def register_availability(speaker_ids: Callable[..., list[str]]) -> None:
    AVAILABILITY.speaker_ids = speaker_ids


def get_speaker(session: Session, speaker_id: str) -> Speaker:
    speaker = session.get(Speaker, speaker_id)
    if speaker is None:
        raise NotFound("No speaker with that id.")
    return speaker


def _apply(session: Session, speaker: Speaker, data: dict) -> None:
    if "topics" in data:
        speaker.topics = resolve_slugs(session, data.pop("topics"))
    if data.get("trust_id") and session.get(Trust, data["trust_id"]) is None:
        raise ValidationFailed({"trust_id": ["No trust with that id."]})
    for field, value in data.items():
        setattr(speaker, field, value)


def create_speaker(session: Session, principal: Principal, data: dict) -> Speaker:
    speaker = Speaker()
    _apply(session, speaker, dict(data))
    session.add(speaker)
    session.flush()
    audit.record(session, principal, "speaker", speaker.id, "create", {}, _snapshot(speaker))
    return speaker


def update_speaker(session: Session, principal: Principal, speaker: Speaker, data: dict) -> Speaker:
    before = _snapshot(speaker)
    _apply(session, speaker, dict(data))
    if "topics" in data:
        speaker.touch()
    session.flush()
    audit.record(session, principal, "speaker", speaker.id, "update", before, _snapshot(speaker))
    return speaker


# --- availability -------------------------------------------------------------------------------

def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def has_availability(speaker: Speaker) -> bool:
    """Whether a PUT would replace something: weekly windows or exceptions already recorded."""
    return bool(speaker.weekly or speaker.exceptions)


def availability_of(speaker: Speaker) -> dict:
    return {
        "timezone": speaker.timezone,
        "weekly": [{"weekday": w.weekday, "start_time": _hhmm(w.start_minute), "end_time": _hhmm(w.end_minute)}
                   for w in speaker.weekly],
        "exceptions": [{"starts_at": e.starts_at, "ends_at": e.ends_at, "available": e.available}
                       for e in speaker.exceptions],
    }


def set_availability(session: Session, principal: Principal, speaker: Speaker, data: dict) -> dict:
    """Replace the weekly windows and exceptions; overlapping windows on one day are merged."""
    before = availability_of(speaker)
    by_day: dict[int, list[tuple[int, int]]] = {}
    for window in data["weekly"]:
        by_day.setdefault(window["weekday"], []).append((_minutes(window["start_time"]), _minutes(window["end_time"])))
    merged = []
    for weekday, spans in sorted(by_day.items()):
        spans.sort()
        current = list(spans[0])
        for start, end in spans[1:]:
            if start <= current[1]:
                current[1] = max(current[1], end)
            else:
                merged.append((weekday, *current))
                current = [start, end]
        merged.append((weekday, *current))
    speaker.weekly = [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in merged]
    speaker.exceptions = [AvailabilityException(starts_at=x["starts_at"], ends_at=x["ends_at"], available=x["available"])
                          for x in sorted(data["exceptions"], key=lambda x: x["starts_at"])]
    speaker.touch()
    session.flush()
    after = availability_of(speaker)
    audit.record(session, principal, "speaker", speaker.id, "availability",
                 {"availability": _jsonable(before)}, {"availability": _jsonable(after)})
    return after


def _jsonable(value: dict) -> dict:
    return {
        "weekly": value["weekly"],
        "exceptions": [{**e, "starts_at": e["starts_at"].isoformat(), "ends_at": e["ends_at"].isoformat()}
                       for e in value["exceptions"]],
    }
