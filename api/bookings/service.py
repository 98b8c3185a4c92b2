"""Booking rules: defaults, lifecycle, partner scoping, speakers' slots and scheduling conflicts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import Principal
from api.bookings import documents
from api.bookings.documents import PARTNER_HIDDEN
from api.bookings.events import booking_changed, snapshot
from api.bookings.models import DEFAULT_CAPACITY, SEATED, Booking, BookingRendering, BookingSpeaker, Slot
from api import derived
from api.db import utcnow
from api.fields import to_utc_text
from api.derived import state as data_state
from api.errors import Conflict, Forbidden, NotFound, SchedulingConflict, ValidationFailed
from api.speakers.models import Speaker
from api.topics.service import resolve_slugs
from api.trusts.models import Contact, Trust
from api.web import Redacted, apply_sort, etag_of, split_csv

DEFAULT_LENGTH = timedelta(minutes=180)
MAX_LENGTH = timedelta(hours=12)
WINDOW_HORIZON = timedelta(days=548)  # a request's preferred windows lie within 18 months
# What a partner's write may name (SPEC, Roles). Naming anything else, even as null or [], is 403.
PARTNER_CREATE_FIELDS = frozenset({"trust_id", "kind", "format", "status", "starts_at", "preferred_windows",
                                   "ends_at", "timezone", "title", "location", "video_url", "topics", "brief",
                                   "external_ref", "capacity"})
# On its `requested` bookings; `cancel_reason` only with `status: "cancelled"`.
PARTNER_PATCH_FIELDS = PARTNER_CREATE_FIELDS - {"trust_id", "kind"} | {"cancel_reason"}
# On a booking no longer `requested`: cancelling is all a partner may do.
PARTNER_CANCEL_FIELDS = frozenset({"status", "cancel_reason"})
TITLES = {"board_development": "Board development session", "masterclass": "Masterclass",
          "follow_up": "Follow-up session"}


class _StartsAt:
    """Sorting by ``starts_at``: requests without a time come last, whichever the direction (SQLite and
    PostgreSQL disagree on where NULLs go)."""

    @staticmethod
    def asc():
        return Booking.starts_at.asc().nulls_last()

    @staticmethod
    def desc():
        return Booking.starts_at.desc().nulls_last()


SORTS = {"id": Booking.id, "starts_at": _StartsAt, "created_at": Booking.created_at,
         "updated_at": Booking.updated_at, "status": Booking.status, "title": Booking.title}


@dataclass
class Scheduling:
    """Conflict finding (``api.scheduling.conflicts``: it reads bookings, speakers and trusts, so it sits above
    this package), registered by ``create_app``: ``lock`` the rows a write depends on, then ``find_conflicts``."""

    lock: Callable[..., None] | None = None
    find_conflicts: Callable[..., list[dict]] | None = None
    trust_overlap: Callable[..., list] | None = None  # the trust rule as conditions on Booking (for an EXISTS)
    # A class's capacity grew: fill the new seats from its waiting list (``api.registrations``, which sits above).
    seats_added: Callable[[Session, Principal, Booking], Any] | None = None


SCHEDULING = Scheduling()


def register_scheduling(lock: Callable[..., None], find_conflicts: Callable[..., list[dict]],
                        trust_overlap: Callable[..., list]) -> None:
    SCHEDULING.lock, SCHEDULING.find_conflicts, SCHEDULING.trust_overlap = lock, find_conflicts, trust_overlap


def register_seats_added(fill: Callable[[Session, Principal, Booking], Any]) -> None:
    SCHEDULING.seats_added = fill


def present(booking: Booking, principal: Principal) -> Any:
    return Redacted(booking, PARTNER_HIDDEN) if principal.is_partner else booking


def view(principal: Principal) -> str:
    return "partner" if principal.is_partner else "full"


# --- reading ------------------------------------------------------------------------------------

def partner_visible(principal: Principal):
    """What a partner sees: its own bookings, and every masterclass the programme team runs (SPEC, Masterclasses)."""
    return or_(Booking.partner_id == principal.partner_id,
               and_(Booking.partner_id.is_(None), Booking.kind == "masterclass"))


def visible_to(principal: Principal, partner_id: str | None, kind: str) -> bool:
    """``partner_visible`` for one booking already read."""
    return (not principal.is_partner or partner_id == principal.partner_id
            or partner_id is None and kind == "masterclass")


def list_bookings(principal: Principal, args: dict, columns: list | None = None) -> Select:
    """The list's filtered, sorted statement: of Booking objects, or of ``columns`` (the fast path)."""
    stmt = select(Booking).options(*documents.load_options()) if columns is None else select(*columns)
    if principal.is_partner:
        stmt = stmt.where(partner_visible(principal))
    elif args.get("partner_id"):
        stmt = stmt.where(Booking.partner_id == args["partner_id"])
    statuses = split_csv(args.get("status"))
    if statuses:
        stmt = stmt.where(Booking.status.in_(statuses))
    elif "updated_since" not in args:
        stmt = stmt.where(Booking.status != "cancelled")
    if "updated_since" in args:
        stmt = stmt.where(Booking.updated_at >= args["updated_since"])
    for field in ("trust_id", "kind", "format", "external_ref"):
        if args.get(field):
            stmt = stmt.where(getattr(Booking, field) == args[field])
    if args.get("region"):
        stmt = stmt.where(Booking.trust_id.in_(select(Trust.id).where(Trust.region == args["region"])))
    if args.get("speaker_id"):
        stmt = stmt.where(Booking.speakers.any(BookingSpeaker.speaker_id == args["speaker_id"]))
    if args.get("from_"):
        stmt = stmt.where(Booking.ends_at > args["from_"])
    if args.get("to"):
        stmt = stmt.where(Booking.starts_at < args["to"])
    return apply_sort(stmt, args.get("sort"), SORTS, default=[_StartsAt.asc()])


def get_booking(session: Session, principal: Principal, booking_id: str) -> Booking:
    """A booking by id; another partner's booking is not found (404), never forbidden."""
    booking = session.scalar(select(Booking).where(Booking.id == booking_id).options(*documents.load_options()))
    if booking is None or not visible_to(principal, booking.partner_id, booking.kind):
        raise NotFound("No booking with that id.")
    return booking


def delivered_booking_exists():
    """The condition "this trust has a delivered booking" (the trusts list's ``engaged`` filter)."""
    return exists().where(Booking.trust_id == Trust.id, Booking.status == "delivered")


# --- shared checks ------------------------------------------------------------------------------

def _attendees(session: Session, trust_id: str | None, ids: list[str]) -> list[Contact]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    if trust_id is None:
        raise ValidationFailed({"attendee_ids": ["A masterclass for many trusts takes registrations, not attendees."]})
    found = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(wanted)))}
    unknown = [i for i in wanted if i not in found]
    if unknown:
        raise ValidationFailed({"attendee_ids": [f"No contact with id {', '.join(unknown)}."]})
    elsewhere = [i for i in wanted if found[i].trust_id != trust_id]
    if elsewhere:
        raise ValidationFailed({"attendee_ids": [f"Contacts {', '.join(elsewhere)} belong to another trust."]})
    # The relationship's own order, so a fresh write answers the same as a later read.
    return sorted((found[i] for i in wanted), key=lambda c: c.name)


def _topics(session: Session, slugs: list[str]) -> list:
    return sorted(resolve_slugs(session, slugs), key=lambda t: t.slug)


def _require_location(fmt: str, location: str | None) -> None:
    if fmt != "virtual" and not (location or "").strip():
        raise ValidationFailed({"location": [f"Required for a {fmt.replace('_', '-')} session."]})


def _ensure_unique_ref(session: Session, partner_id: str | None, ref: str | None, booking_id: str | None = None) -> None:
    if not ref:
        return
    owner = Booking.partner_id == partner_id if partner_id else Booking.partner_id.is_(None)
    clash = session.scalar(select(Booking.id).where(owner, Booking.external_ref == ref))
    if clash is not None and clash != booking_id:
        raise Conflict(f"A booking with external_ref {ref!r} already exists.", existing_id=clash)


def _flush_unique(session: Session, ref: str | None) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"A booking with external_ref {ref!r} already exists.") from None


def _partner_fields(principal: Principal, data: dict, allowed: frozenset[str]) -> None:
    """A partner may name only the fields it may set: naming another is 403, whatever its value."""
    if not principal.is_partner:
        return
    refused = sorted(set(data) - allowed)
    if refused:
        raise Forbidden(f"A partner may not set {', '.join(refused)} here.",
                        errors={f: ["Partners may not set this field here."] for f in refused})


def _partner_patch(principal: Principal, booking: Booking, data: dict) -> None:
    """What a partner's PATCH may name: its `requested` booking's own fields; otherwise only a cancellation."""
    if not principal.is_partner:
        return
    cancelling = data.get("status") == "cancelled"
    if booking.status == "requested":
        _partner_fields(principal, data, PARTNER_PATCH_FIELDS)
        if "cancel_reason" in data and not cancelling:
            raise Forbidden("A partner sets cancel_reason only when cancelling (with status: cancelled).",
                            errors={"cancel_reason": ["Only with status: cancelled."]})
        return
    if not cancelling or set(data) - PARTNER_CANCEL_FIELDS:
        raise Forbidden(f"This booking is {booking.status}: a partner may only cancel it "
                        "(status: cancelled, with an optional cancel_reason).")


def _check_kind_and_capacity(booking: Booking, data: dict) -> None:
    """A class keeps its registrations' seats; a booking without a trust stays a masterclass."""
    kind = data.get("kind", booking.kind)
    if kind != "masterclass":
        if data.get("capacity") is not None:
            raise ValidationFailed({"capacity": ["Only a masterclass has a capacity."]})
        if booking.trust_id is None:
            raise ValidationFailed({"kind": ["A masterclass without a trust cannot become another kind."]})
        if booking.kind == "masterclass" and booking.registrations:
            raise Conflict("This masterclass has registrations: it cannot become another kind.")
        if booking.kind == "masterclass":
            data["capacity"] = None
    elif booking.kind != "masterclass" and data.get("capacity") is None:
        data["capacity"] = DEFAULT_CAPACITY
    if data.get("capacity") is not None and data["capacity"] < booking.count(*SEATED):
        raise Conflict(f"{booking.count(*SEATED)} places are taken: the capacity cannot go below that.")
    if "capacity" in data and data["capacity"] is None and kind == "masterclass":
        raise ValidationFailed({"capacity": ["A masterclass has a capacity (1-500)."]})


def _check_length(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at - starts_at > MAX_LENGTH:
        raise ValidationFailed({"ends_at": ["A booking lasts at most 12 hours."]})


def _future(principal: Principal, starts_at: datetime) -> None:
    if principal.is_partner and starts_at <= utcnow():
        raise ValidationFailed({"starts_at": ["A partner's booking must start in the future."]})


def _windows(windows: list[dict] | None) -> list[dict] | None:
    """A request's preferred windows, checked (each in the future and within 18 months) and kept as UTC text."""
    if windows is None:
        return None
    now = utcnow()
    errors = {}
    for index, window in enumerate(windows):
        if window["from_"] <= now:
            errors[f"preferred_windows.{index}.from"] = ["Must be in the future."]
        if window["to"] > now + WINDOW_HORIZON:
            errors[f"preferred_windows.{index}.to"] = ["Must be within 18 months from now."]
    if errors:
        raise ValidationFailed(errors)
    return [{"from": to_utc_text(w["from_"]), "to": to_utc_text(w["to"])} for w in windows]


def _untimed_request(data: dict, status: str) -> None:
    """A booking without a time is a request: it names preferred windows, no end, and stays `requested`."""
    if not data.get("preferred_windows"):
        raise ValidationFailed({"starts_at": ["Give starts_at, or preferred_windows for a request without a time."]})
    if data.get("ends_at") is not None:
        raise ValidationFailed({"ends_at": ["Give starts_at with ends_at."]})
    if status != "requested":
        raise Conflict("A booking without a time is `requested` until the programme team sets its time.",
                       allowed=["requested"])


def _raise_if_conflicts(session: Session, principal: Principal, found: list[dict]) -> None:
    if found:
        kinds = sorted({c["kind"].replace("_", " ") for c in found})
        raise SchedulingConflict(f"The booking would conflict: {', '.join(kinds)}.",
                                 conflicts=conflicts_as_seen_by(session, principal, found))


def conflicts_as_seen_by(session: Session, principal: Principal, found: list[dict]) -> list[dict]:
    """Conflicts as the caller may see them. A partner learns nothing of another party's booking: such a
    conflict keeps its kind and the speaker (one on the partner's own booking, whose public profile it
    reads) but gives `booking_id: null` and no times, once per kind and speaker (no count of bookings)."""
    if not principal.is_partner:
        return found
    others = {c["booking_id"] for c in found if c["kind"] != "outside_availability" and c["booking_id"]}
    own = set(session.scalars(select(Booking.id).where(
        Booking.id.in_(others), Booking.partner_id == principal.partner_id))) if others else set()
    seen, out = set(), []
    for conflict in found:
        if conflict["kind"] == "outside_availability" or conflict["booking_id"] in own:
            out.append({k: v for k, v in conflict.items() if k != "contact_id"})  # never a contact's id
            continue
        key = (conflict["kind"], conflict["speaker_id"])
        if key not in seen:
            seen.add(key)
            out.append({"kind": conflict["kind"], "booking_id": None, "speaker_id": conflict["speaker_id"]})
    return out


# --- writing ------------------------------------------------------------------------------------

def create_booking(session: Session, principal: Principal, data: dict) -> Booking:
    data = dict(data)
    _partner_fields(principal, data, PARTNER_CREATE_FIELDS)
    status = data.pop("status", None) or "requested"
    if principal.is_partner and status != "requested":
        raise Forbidden("A partner's new booking is always `requested`; the programme team confirms it.")
    live = status != "cancelled"
    masterclass = data["kind"] == "masterclass"
    _capacity(masterclass, data)
    data["preferred_windows"] = _windows(data.get("preferred_windows"))
    starts_at = data.get("starts_at")
    if starts_at is None:
        _untimed_request(data, status)
        ends_at = None
    else:
        ends_at = data.get("ends_at") or starts_at + DEFAULT_LENGTH
        _check_length(starts_at, ends_at)
        _future(principal, starts_at)
    if status == "delivered" and ends_at > utcnow():
        raise Conflict("A booking can only be `delivered` once the session has ended.")
    _require_location(data["format"], data.get("location"))
    checked = live and starts_at is not None
    trust, clash = _trust(session, data.get("trust_id"), masterclass, live,
                          (starts_at, ends_at) if checked and not masterclass else None)
    topics = _topics(session, data.pop("topics", []))
    attendees = _attendees(session, trust and trust.id, data.pop("attendee_ids", []))
    partner_id = principal.partner_id if principal.is_partner else None
    _ensure_unique_ref(session, partner_id, data.get("external_ref"))

    if checked and (clash or attendees):  # nothing to find otherwise: a new booking has no speakers yet
        if attendees:
            SCHEDULING.lock(session, [], [], [c.id for c in attendees])
        _raise_if_conflicts(session, principal, SCHEDULING.find_conflicts(
            session, trust_id=trust.id if clash else None, starts_at=starts_at, ends_at=ends_at, slots=[],
            contact_ids=[c.id for c in attendees]))
    default_title = f"{TITLES[data['kind']]}: {trust.name}" if trust else TITLES[data["kind"]]
    data.update(starts_at=starts_at, ends_at=ends_at,
                timezone=data.get("timezone") or (trust.timezone if trust else "Europe/London"),
                title=data.get("title") or default_title, trust_id=trust and trust.id)
    booking = Booking(**data, status=status, live=live, partner_id=partner_id, topics=topics,
                      attendees=attendees, speakers=[], sequence=0, cancelled_at=None if live else utcnow())
    session.add(booking)
    _flush_unique(session, booking.external_ref)
    booking_changed(session, principal, booking, "create", {}, snapshot(booking))
    return booking


def _trust(session: Session, trust_id: str | None, masterclass: bool, live: bool,
           during: tuple[datetime, datetime] | None) -> tuple[Trust | None, bool]:
    """The booking's trust (only a masterclass may have none), and whether the trust rule may be hit ``during`` that
    time (False when None: not checked). A live booking locks its trust's row (see api.scheduling.conflicts.lock)
    in the statement that reads it; only on a possible hit does ``find_conflicts`` read which bookings it hits.

    On SQLite the same statement asks whether any live booking of the trust overlaps: its snapshot is taken with
    the database's write lock held (BEGIN IMMEDIATE), so the answer is current. Not on PostgreSQL: a statement
    that waits for a row lock keeps its snapshot (READ COMMITTED re-checks only the locked row), so a booking
    committed by the lock's previous holder would be missed; there the overlap is read by its own statement,
    after the lock, and a possible hit is assumed."""
    if trust_id is None:
        if masterclass:
            return None, False
        raise ValidationFailed({"trust_id": ["Missing data for required field (optional only for a masterclass)."]})
    in_one = during is not None and session.get_bind().dialect.name == "sqlite"
    clash = (exists().where(*SCHEDULING.trust_overlap(Trust.id, *during)) if in_one else literal(False)).label("clash")
    stmt = select(Trust, clash).where(Trust.id == trust_id)
    row = session.execute(stmt.with_for_update(of=Trust) if live else stmt).first()
    if row is None:
        raise ValidationFailed({"trust_id": ["No trust with that id."]})
    trust, hit = row
    if trust.archived_at is not None:
        raise ValidationFailed({"trust_id": ["This trust is archived."]})
    return trust, bool(hit) if in_one else during is not None


def _capacity(masterclass: bool, data: dict) -> None:
    """A masterclass has a capacity (default 30); other kinds have none."""
    if masterclass:
        if data.get("capacity") is None:
            data["capacity"] = DEFAULT_CAPACITY
    elif data.get("capacity") is not None:
        raise ValidationFailed({"capacity": ["Only a masterclass has a capacity."]})


def _check_transition(principal: Principal, booking: Booking, new_status: str) -> None:
    if principal.is_partner and new_status != "cancelled":
        raise Forbidden("Only the programme team may move a booking to provisional, confirmed or delivered.")
    if not booking.can_become(new_status):
        raise Conflict(f"A {booking.status} booking cannot become {new_status}.", allowed=list(booking.next_statuses()))


def _new_time(booking: Booking, data: dict, new_status: str | None) -> tuple:
    """The booking's (start, end) after this PATCH. A booking without a time keeps none until one is given (and
    meanwhile may only be cancelled, 409 otherwise); a time once set is never taken away (422)."""
    for field in ("starts_at", "ends_at"):
        if field in data and data[field] is None:
            if booking.has_time:
                raise ValidationFailed({field: ["A booking's time can be changed but not removed."]})
            del data[field]
    if not booking.has_time and "starts_at" not in data:
        if "ends_at" in data:
            raise ValidationFailed({"ends_at": ["Give starts_at with ends_at."]})
        if new_status not in (None, "cancelled"):
            raise Conflict(f"This request has no time yet: set starts_at before it becomes {new_status}.",
                           allowed=["cancelled"])
        if "preferred_windows" in data and not data["preferred_windows"]:
            raise ValidationFailed({"preferred_windows": ["A request without a time needs its windows."]})
        return None, None
    new_start = data.get("starts_at", booking.starts_at)
    if "ends_at" in data:
        new_end = data["ends_at"]
    elif not booking.has_time:
        new_end = new_start + DEFAULT_LENGTH
    else:
        new_end = booking.ends_at + (new_start - booking.starts_at)  # a new start keeps the length
    if new_end <= new_start:
        raise ValidationFailed({"ends_at": ["Must be after starts_at."]})
    return new_start, new_end


def update_booking(session: Session, principal: Principal, booking: Booking, data: dict) -> Booking:
    """Change fields and/or status; a new time moves the speakers' slots and re-checks everything."""
    data = dict(data)
    if "override_availability" in data and principal.is_partner:
        raise Forbidden("Only the programme team may book a speaker outside their availability.")
    override = data.pop("override_availability", False)
    _partner_patch(principal, booking, data)
    new_status = data.pop("status", None)
    if new_status == booking.status:
        new_status = None
    if booking.status == "cancelled" and set(data) - {"cancel_reason"}:
        raise Conflict("A cancelled booking cannot be changed.", allowed=[])
    if new_status:
        _check_transition(principal, booking, new_status)
    _check_kind_and_capacity(booking, data)

    if "preferred_windows" in data:
        data["preferred_windows"] = _windows(data["preferred_windows"])
    old_start, old_end = booking.starts_at, booking.ends_at
    new_start, new_end = _new_time(booking, data, new_status)
    if (new_start, new_end) != (old_start, old_end):
        _check_length(new_start, new_end)
    if "starts_at" in data:
        _future(principal, new_start)
    if new_status == "delivered" and new_end > utcnow():
        raise Conflict("A booking can only be `delivered` once the session has ended.")
    _require_location(data.get("format", booking.format), data.get("location", booking.location))
    if "external_ref" in data:
        _ensure_unique_ref(session, booking.partner_id, data["external_ref"], booking.id)

    moved, outside = booking.slots_moved_to(new_start, new_end)
    if outside:
        raise ValidationFailed({"speakers": [
            f"The slot of {', '.join(outside)} would fall outside the new time; change or remove it first."]})
    cancelling = new_status == "cancelled"
    masterclass = data.get("kind", booking.kind) == "masterclass"
    attendees = (_attendees(session, booking.trust_id, data.pop("attendee_ids"))
                 if "attendee_ids" in data else None)
    moving = (new_start, new_end) != (old_start, old_end)
    if booking.live and not cancelling and (moving or attendees is not None):
        # Everyone who would be in it: attendees, and the people holding a seat in a class.
        people = [c.id for c in (booking.attendees if attendees is None else attendees)]
        people += [r.contact_id for r in booking.registrations if r.status in SEATED]
        SCHEDULING.lock(session, [booking.trust_id], [s.speaker_id for s in booking.speakers], people)
        _raise_if_conflicts(session, principal, SCHEDULING.find_conflicts(
            session, trust_id=None if masterclass else booking.trust_id, starts_at=new_start, ends_at=new_end,
            slots=[Slot(s.speaker_id, start, end) for s, (start, end) in moved.items()] if moving else [],
            exclude_booking_id=booking.id, check_availability=not override, contact_ids=people))

    before = snapshot(booking)
    old_schedule = booking.schedule()
    if "topics" in data:
        booking.topics = _topics(session, data.pop("topics"))
        booking.touch()
    if attendees is not None:
        booking.attendees = attendees
        booking.touch()
    data.pop("starts_at", None)
    data.pop("ends_at", None)
    for field, value in data.items():
        setattr(booking, field, value)
    booking.reschedule(new_start, new_end, moved)
    if new_status:
        booking.status = new_status
    if cancelling:
        booking.cancel(utcnow())
    if cancelling or booking.schedule() != old_schedule:
        booking.sequence += 1
    _flush_unique(session, booking.external_ref)
    action = "cancel" if cancelling else "status_change" if new_status else "update"
    booking_changed(session, principal, booking, action, before, snapshot(booking))
    if booking.live and (booking.capacity or 0) > (before.get("capacity") or 0) and SCHEDULING.seats_added:
        SCHEDULING.seats_added(session, principal, booking)
    return booking


# --- speakers -----------------------------------------------------------------------------------

def has_speaker(booking: Booking, speaker_id: str) -> bool:
    return any(s.speaker_id == speaker_id for s in booking.speakers)


def put_speaker(session: Session, principal: Principal, booking: Booking, speaker_id: str, data: dict) -> Booking:
    """Add a speaker to a booking or change their role/slot; checks overlap and availability."""
    if booking.status == "cancelled":
        raise Conflict("A cancelled booking cannot take speakers.")
    if not booking.has_time:
        raise Conflict("This request has no time yet: set starts_at before adding speakers.")
    speaker = session.get(Speaker, speaker_id)
    if speaker is None:
        raise NotFound("No speaker with that id.")
    if not speaker.active:
        raise ValidationFailed({"speaker_id": ["This speaker is inactive."]})
    own_slot = data.get("starts_at") is not None
    start = data["starts_at"] if own_slot else booking.starts_at
    end = data["ends_at"] if own_slot else booking.ends_at
    if start < booking.starts_at or end > booking.ends_at:
        raise ValidationFailed({"starts_at": ["The slot must lie inside the booking's time."]})

    SCHEDULING.lock(session, [booking.trust_id], [speaker.id])
    _raise_if_conflicts(session, principal, SCHEDULING.find_conflicts(
        session, trust_id=None, starts_at=start, ends_at=end, slots=[Slot(speaker.id, start, end)],
        exclude_booking_id=booking.id, check_availability=not data.get("override_availability")))

    before = snapshot(booking)
    slot = next((s for s in booking.speakers if s.speaker_id == speaker.id), None)
    if slot is None:
        slot = BookingSpeaker(speaker=speaker, speaker_id=speaker.id, live=booking.live)
        booking.speakers.append(slot)
    slot.role, slot.own_slot, slot.starts_at, slot.ends_at = data["role"], own_slot, start, end
    booking.touch()
    session.flush()
    booking_changed(session, principal, booking, "speaker_added", before, snapshot(booking))
    return booking


def remove_speaker(session: Session, principal: Principal, booking: Booking, speaker_id: str) -> None:
    slot = next((s for s in booking.speakers if s.speaker_id == speaker_id), None)
    if slot is None:
        raise NotFound("That speaker is not on this booking.")
    before = snapshot(booking)
    booking.speakers.remove(slot)
    booking.touch()
    session.flush()
    booking_changed(session, principal, booking, "speaker_removed", before, snapshot(booking))


# --- reads served from the stored documents --------------------------------------------------------
# GET /bookings is one statement for the page's stored JSON texts (with the data state's version), a
# count only when the data state moved since this process last counted the same filter, and the texts
# joined into the body. GET /bookings/{id} is one primary-key read (the text and ``version`` for the
# ETag). See ``api.bookings.documents``; ``tests/bookings/test_list_fast_path.py`` proves the JSON (and
# the ETag) equals BookingSchema's dump of the ORM object, including after renames and erasures.

_COUNT_CACHE: dict = {"version": None, "counts": {}}


def _cached_count(session: Session, version, key, statement) -> int:
    cache = _COUNT_CACHE
    if version is None or cache["version"] != version:
        cache["version"], cache["counts"] = version, {}
    if version is not None and key in cache["counts"]:
        return cache["counts"][key]
    total = session.scalar(select(func.count()).select_from(statement().order_by(None).subquery()))
    if version is not None and len(cache["counts"]) < 1024:
        cache["counts"][key] = total
    return total


def _docs(session: Session, rows, partner: bool) -> list[str]:
    """The rows' stored JSON texts; texts cleared since (NULL) are filled through ``api.derived.fill`` (rendered,
    stored best effort: the views say ``@stores_on_read``)."""
    missing = [row.id for row in rows if row.doc is None]
    if not missing:
        return [row.doc for row in rows]
    name = "json_partner" if partner else "json"
    rendered = derived.fill(session, "booking", ("json", "json_partner"), missing)
    return [row.doc if row.doc is not None else rendered[row.id][name] for row in rows]


def _doc_column(partner: bool):
    return (BookingRendering.api_doc_partner if partner else BookingRendering.api_doc).label("doc")


_RENDERED = BookingRendering.booking_id == Booking.id


_PAGE_STATEMENTS: dict = {}


def _page_statement(principal: Principal, args: dict) -> tuple[Select, tuple]:
    """The page's statement for this scope and these arguments, built once (limit and offset are binds)."""
    key = (principal.partner_id if principal.is_partner else None,
           tuple(sorted((k, repr(v)) for k, v in args.items())))
    stmt = _PAGE_STATEMENTS.get(key)
    if stmt is None:
        if len(_PAGE_STATEMENTS) >= 512:
            _PAGE_STATEMENTS.clear()
        stmt = list_bookings(principal, args, [Booking.id, _doc_column(principal.is_partner),
                                               data_state.version_column().label("_state")])
        stmt = stmt.outerjoin(BookingRendering, _RENDERED)
        stmt = _PAGE_STATEMENTS[key] = stmt.limit(bindparam("page_limit")).offset(bindparam("page_offset"))
    return stmt, key


def list_page(session: Session, principal: Principal, args: dict, pagination_parameters) -> str:
    """One page of ``list_bookings`` as a JSON array joined from the stored documents (see ``documents``)."""
    pp = pagination_parameters
    page_stmt, key = _page_statement(principal, args)
    # Core execution on the session's connection: plain rows are all this needs (no ORM result machinery).
    rows = session.connection().execute(page_stmt, {"page_limit": pp.page_size, "page_offset": pp.first_item}).all()
    if rows:
        version = rows[0]._state
    else:
        version = session.scalar(select(data_state.version_column()))
    # Per filter (and page size, so the first request of each size costs the same queries).
    pp.item_count = _cached_count(session, version, (key, pp.page_size),
                                  lambda: list_bookings(principal, args, [Booking.id]))
    return "[" + ",".join(_docs(session, rows, principal.is_partner)) + "]"


@lru_cache(maxsize=2)
def _get_statement(partner: bool):
    return (select(Booking.id, Booking.partner_id, Booking.kind, Booking.version, _doc_column(partner))
            .outerjoin(BookingRendering, _RENDERED).where(Booking.id == bindparam("booking_id")))


class _Versioned:
    """What ``etag_of`` reads (type name, id, version): the ETag equals the ORM booking's."""

    __slots__ = ("id", "version")

    def __init__(self, id_: str, version: int):
        self.id, self.version = id_, version


_Versioned.__name__ = Booking.__name__


def get_booking_doc(session: Session, principal: Principal, booking_id: str,
                    etag_matches) -> tuple[str | None, str]:
    """GET /bookings/{id} from the stored document: (JSON text, ETag) in one statement.

    ``etag_matches(etag)`` says whether the client already holds that ETag: then the text is None.
    Another partner's booking is not found (404).
    """
    partner = principal.is_partner
    row = session.connection().execute(_get_statement(partner), {"booking_id": booking_id}).first()
    if row is None or not visible_to(principal, row.partner_id, row.kind):
        raise NotFound("No booking with that id.")
    etag = etag_of(_Versioned(row.id, row.version), view(principal))
    if etag_matches(etag):
        return None, etag
    return _docs(session, [row], partner)[0], etag
