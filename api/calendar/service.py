"""Calendar rules: booking invites, feed subscriptions (secret URLs), and serving feeds cheaply.

A feed is served in a constant number of queries whatever its size: one finds the feed by its
token together with the data state's version (enough for a 304), then one reads the stored VEVENT
texts of the bookings in scope in a fixed order (the ETag is strong: one version, one set of bytes),
driven by an index on the scope's key; bookings whose stored text was cleared (new, or a rename)
are loaded with their relations in three more (per 500), rendered, and stored in one executemany.
Both statements are built once (bind parameters), so SQLAlchemy's compiled cache serves every
request after the first.

The validators (ETag, Last-Modified) are a function of: the feed (id, scope, target,
partner), the calendar day (the history and cancellation windows move at midnight UTC),
the window lengths, and the data state (``api.derived.state``): a counter bumped in the same
transaction as every write to bookings, speaker slots, topics, trusts, speakers or partners,
which is everything a feed shows (its own speaker/trust/partner name included). A 304 therefore
reads two indexed rows in one statement whatever the number of bookings; the price is
over-invalidation (any such write anywhere moves every feed's ETag), never a stale feed.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Text, and_, bindparam, cast, or_, select, type_coerce, union
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.types import NullType

from api import audit
from api.audit import AuditEvent
from api.accounts.models import ApiToken, Partner
from api.auth import Principal, hash_token
from api import derived
from api.calendar.events import contact_vevent, event_data, invite_attendees, personal_invite
from api.bookings.models import (SEATED, Booking, BookingRendering, BookingSpeaker, Registration,
                                 SpeakerFeedEvent, booking_attendees)
from api.bookings.service import visible_to
from api.calendar import render
from api.calendar.render import Attendee
from api.calendar.models import Feed
from api.db import utcnow
from api.derived import state as data_state
from api.derived.counters import CounterRow
from api.errors import Conflict, Forbidden, NotFound, ValidationFailed
from api.speakers.models import Speaker
from api.trusts.models import Contact, Trust
from api.web import apply_sort

FEED_TOKEN_PREFIX = "brf_"
CALENDAR_PREFIX = "Boardroom – "
DEFAULT_TIMEZONE = "Europe/London"
FEED_SORTS = {"id": Feed.id, "created_at": Feed.created_at, "updated_at": Feed.updated_at, "scope": Feed.scope}


# --- invites ----------------------------------------------------------------------------------

def invite(session: Session, principal: Principal, booking_id: str, config: Mapping[str, Any],
           attendee_id: str | None = None) -> bytes:
    """The booking's iTIP invite: REQUEST, or CANCEL once cancelled; partners get no addresses."""
    booking = session.scalar(
        select(Booking).where(Booking.id == booking_id).options(
            joinedload(Booking.trust), selectinload(Booking.topics), selectinload(Booking.attendees),
            selectinload(Booking.speakers).joinedload(BookingSpeaker.speaker),
            selectinload(Booking.registrations).joinedload(Registration.contact))
    )
    if booking is None or not visible_to(principal, booking.partner_id, booking.kind):
        raise NotFound("No booking with that id.")
    if not booking.has_time:
        raise Conflict("This request has no time yet, so there is no invite: the programme team sets its time first.")
    attendees = invite_attendees(booking, with_emails=not principal.is_partner, only=attendee_id)
    if attendee_id is not None and not attendees:
        # Someone taken off the booking (or never on it): their copy is a CANCEL, so the entry leaves their calendar.
        former = _former_attendee(session, principal, booking, attendee_id)
        if former is None:
            raise ValidationFailed({"attendee": ["Not a speaker on this booking." if principal.is_partner
                                                 else "Not a speaker or attendee contact on this booking."]})
        return personal_invite(booking, config, former, cancel=True)[1]
    data = event_data(booking, config, attendees=attendees, organizer=True)
    return render.invite(data, method="CANCEL" if data.status == "CANCELLED" else "REQUEST")


def _former_attendee(session: Session, principal: Principal, booking: Booking, person_id: str) -> Attendee | None:
    """Someone taken off the booking as an ATTENDEE: a speaker, or (for coordinators and viewers) a contact,
    whom the booking's audit trail shows on it (ids are UUIDs, so a match in its recorded changes is theirs)."""
    was_on = session.scalar(select(AuditEvent.id).where(
        AuditEvent.entity_type == "booking", AuditEvent.entity_id == booking.id,
        cast(AuditEvent.changes, Text).contains(person_id, autoescape=True)).limit(1))
    if was_on is None:
        return None
    speaker = session.get(Speaker, person_id)
    if speaker is not None:
        if principal.is_partner:
            return Attendee(speaker.name, None, "REQ-PARTICIPANT")
        return Attendee(speaker.name, speaker.email, "REQ-PARTICIPANT", id=speaker.id)
    contact = None if principal.is_partner else session.get(Contact, person_id)
    if contact is None:
        return None
    return Attendee(contact.name, contact.email, "REQ-PARTICIPANT", id=contact.id)


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# --- feed subscriptions -----------------------------------------------------------------------

def generate_feed_token() -> str:
    """A feed URL secret with 256 bits of entropy."""
    return FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)


def feed_urls(base_url: str, token: str) -> tuple[str, str]:
    """The feed's absolute http(s) address and the same as ``webcal://``."""
    url = f"{base_url.rstrip('/')}/feeds/{token}.ics"
    return url, "webcal://" + url.split("://", 1)[1]


def _snapshot(feed: Feed) -> dict:
    return audit.snapshot(feed, ("scope", "speaker_id", "trust_id", "contact_id", "partner_id"))


def create_feed(session: Session, principal: Principal, data: dict) -> tuple[Feed, str]:
    """Create a feed and return it with its token, which is stored hashed and never shown again."""
    if data.get("speaker_id") and session.get(Speaker, data["speaker_id"]) is None:
        raise ValidationFailed({"speaker_id": ["No speaker with that id."]})
    if data.get("trust_id") and session.get(Trust, data["trust_id"]) is None:
        raise ValidationFailed({"trust_id": ["No trust with that id."]})
    if data["scope"] == "contact":
        if principal.is_partner:
            raise Forbidden("Only the programme team may create a board member's feed.")
        if session.get(Contact, data["contact_id"]) is None:
            raise ValidationFailed({"contact_id": ["No contact with that id."]})
    token = generate_feed_token()
    feed = Feed(scope=data["scope"], speaker_id=data.get("speaker_id"), trust_id=data.get("trust_id"),
                contact_id=data.get("contact_id"),
                partner_id=principal.partner_id if principal.is_partner else None,
                owner_token_id=None if principal.is_system else principal.token_id,
                token_hash=hash_token(token))
    session.add(feed)
    session.flush()
    audit.record(session, principal, "feed", feed.id, "create", {}, _snapshot(feed))
    return feed, token


def _visible(stmt: Select, principal: Principal) -> Select:
    """Coordinators and viewers see every feed; a partner only its partner's feeds."""
    if principal.is_partner:
        return stmt.where(Feed.partner_id == principal.partner_id)
    return stmt


def list_feeds(principal: Principal, args: dict) -> Select:
    stmt = _visible(select(Feed).where(Feed.revoked_at.is_(None)), principal)
    if "updated_since" in args:
        stmt = stmt.where(Feed.updated_at >= args["updated_since"])
    if args.get("scope"):
        stmt = stmt.where(Feed.scope == args["scope"])
    return apply_sort(stmt, args.get("sort"), FEED_SORTS, default=[Feed.created_at])


def get_feed(session: Session, principal: Principal, feed_id: str) -> Feed:
    feed = session.scalar(_visible(select(Feed).where(Feed.id == feed_id, Feed.revoked_at.is_(None)), principal))
    if feed is None:
        raise NotFound("No feed with that id.")
    return feed


def revoke_feed(session: Session, principal: Principal, feed: Feed) -> None:
    """Revoke a feed: its URL answers 404 from now on."""
    feed.revoked_at = utcnow()
    session.flush()
    audit.record(session, principal, "feed", feed.id, "revoke", {"revoked": False}, {"revoked": True})


def rotate_feed(session: Session, principal: Principal, feed: Feed) -> str:
    """Give a feed a new token: the old URL answers 404 from now on."""
    token = generate_feed_token()
    feed.token_hash = hash_token(token)
    session.flush()
    audit.record(session, principal, "feed", feed.id, "rotate", {"token": "old"}, {"token": "new"})
    return token


# --- serving a feed ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedView:
    """What serving a feed needs to know about it, and the data state it was read with: one query."""

    id: str
    scope: str
    speaker_id: str | None
    trust_id: str | None
    partner_id: str | None
    created_at: datetime
    name: str
    timezone: str
    contact_id: str | None = None
    state_version: int = 0  # ``api.derived.state``: 0 before the first write
    state_changed_at: datetime | None = None


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: datetime


@lru_cache(maxsize=1)
def _feed_statement() -> Select:
    # Built once: every feed request runs it, and SQLAlchemy's compiled cache then serves it as is.
    # The data state's one row rides along (an outer join on its primary key), so the validators,
    # and with them a 304, need no second round trip. It is read before the feed's bookings are:
    # a write committed in between can only make the ETag older than the body, never newer.
    return (
        select(Feed.id, Feed.scope, Feed.speaker_id, Feed.trust_id, Feed.partner_id, Feed.created_at,
               Speaker.name.label("speaker_name"), Speaker.timezone.label("speaker_tz"),
               Trust.name.label("trust_name"), Trust.timezone.label("trust_tz"),
               Partner.name.label("partner_name"), Feed.contact_id, Contact.name.label("contact_name"),
               CounterRow.changed.label("state_version"), CounterRow.changed_at.label("state_changed_at"))
        .outerjoin(Speaker, Speaker.id == Feed.speaker_id)
        .outerjoin(Trust, Trust.id == Feed.trust_id)
        .outerjoin(Partner, Partner.id == Feed.partner_id)
        .outerjoin(Contact, Contact.id == Feed.contact_id)
        .outerjoin(ApiToken, ApiToken.id == Feed.owner_token_id)
        .outerjoin(CounterRow, CounterRow.key == data_state.STATE_KEY)
        .where(Feed.token_hash == bindparam("token_hash"), Feed.revoked_at.is_(None), ApiToken.revoked_at.is_(None))
    )


def feed_by_token(session: Session, token: str) -> FeedView:
    """The live feed with this URL token (404 if unknown, revoked, or its creator's token is revoked).

    Read from the database on every request (no in-process cache), so a revocation or rotation
    committed by any worker applies to the very next request.
    """
    if not token or len(token) > 200:
        raise NotFound("No feed at this address.")
    row = session.connection().execute(_feed_statement(), {"token_hash": hash_token(token)}).first()
    if row is None:
        raise NotFound("No feed at this address; it may have been revoked or rotated.")
    if row.scope == "speaker":
        name, tz = row.speaker_name, row.speaker_tz
    elif row.scope == "trust":
        name, tz = row.trust_name, row.trust_tz
    elif row.scope == "contact":
        name, tz = row.contact_name, DEFAULT_TIMEZONE
    else:
        name, tz = (f"{row.partner_name} programme" if row.partner_id else "Programme"), DEFAULT_TIMEZONE
    return FeedView(id=row.id, scope=row.scope, speaker_id=row.speaker_id, trust_id=row.trust_id,
                    partner_id=row.partner_id, contact_id=row.contact_id, created_at=row.created_at,
                    name=CALENDAR_PREFIX + name,
                    timezone=tz or DEFAULT_TIMEZONE, state_version=row.state_version or 0,
                    state_changed_at=row.state_changed_at)


def day_start(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day: the windows move once a day, so the ETag can name the day."""
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


def _in_scope(table, scope: str, partnered: bool) -> list:
    """Conditions for the bookings a feed shows, on ``table``: ``bookings``, or (a speaker's feed) the speaker's
    own ``speaker_feed_events``, which carry the same columns.

    Values are bind parameters (see ``_scope_params``), so each statement is built once per
    kind of feed and SQLAlchemy's compiled cache serves every request after the first.
    """
    c = table.c
    conditions = [or_(
        and_(c.status != "cancelled", c.ends_at >= bindparam("history_from")),
        and_(c.status == "cancelled", c.cancelled_at >= bindparam("cancelled_from")),
    ), c.starts_at.is_not(None)]  # Booking.has_time: a request without a time is in no feed
    if scope == "trust":
        # Its own bookings, and the classes where its people hold a seat (SPEC, Calendar).
        conditions.append(or_(c.trust_id == bindparam("trust_id"), c.id.in_(
            select(Registration.booking_id).where(Registration.trust_id == bindparam("trust_id"),
                                                  Registration.status.in_(SEATED)))))
    elif scope == "speaker":
        conditions.append(c.speaker_id == bindparam("speaker_id"))
    if partnered:
        conditions.append(c.partner_id == bindparam("partner_id"))
    return conditions


def _scope_params(view: FeedView, day: datetime, config: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "history_from": day - timedelta(days=int(config["FEED_HISTORY_DAYS"])),
        "cancelled_from": day - timedelta(days=int(config["FEED_CANCELLED_DAYS"])),
    }
    if view.scope == "trust":
        params["trust_id"] = view.trust_id
    elif view.scope == "speaker":
        params["speaker_id"] = view.speaker_id
    if view.partner_id:
        params["partner_id"] = view.partner_id
    return params


def feed_validators(view: FeedView, now: datetime, config: Mapping[str, Any]) -> Validators:
    """ETag and Last-Modified from what ``feed_by_token`` read, whatever the feed's size.

    The ETag names the data state's version (``api.derived.state``: bumped in the same
    transaction as any write that changes what a feed shows), the feed, the day and the windows.
    Any booking, speaker, trust, topic or partner change anywhere moves every feed's ETag: a
    client then re-reads a feed that may not have changed (cheap: stored texts), but never keeps
    a stale one.
    """
    day = day_start(now)
    raw = "|".join([
        "feed-v2", view.id, view.scope, view.speaker_id or "", view.trust_id or "", view.partner_id or "",
        *((view.contact_id, view.name) if view.contact_id else ()),  # a contact's name is not in the data state
        day.date().isoformat(), str(config["FEED_HISTORY_DAYS"]), str(config["FEED_CANCELLED_DAYS"]),
        str(view.state_version),
    ])
    etag = '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'
    moments = [t for t in (view.state_changed_at, view.created_at, day) if t is not None]
    return Validators(etag=etag, last_modified=min(max(moments), now))


class FeedBodies:
    """Each feed's last body, under the ETag it was served with: bounded in bytes, least recently used first out.

    Calendar apps poll a feed every few minutes, and many (Google Calendar among them) send no ``If-None-Match``:
    while the ETag stands (no write changed what feeds show, same day), such a poll is answered from here after
    the one statement ``feed_by_token`` runs anyway, so a revoked or rotated feed still answers 404 at once.
    The ETag names everything the body shows, so a body kept under a current ETag is current. One entry per
    feed (a newer version replaces the older), per worker process. Contact feeds are rendered on request and
    small: not kept.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, feed_id: str, etag: str) -> bytes | None:
        with self._lock:
            item = self._items.get(feed_id)
            if item is None or item[0] != etag:
                return None
            self._items.move_to_end(feed_id)
            return item[1]

    def put(self, feed_id: str, etag: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(feed_id, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._items[feed_id] = (etag, body)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _id, (_etag, dropped) = self._items.popitem(last=False)
                self._bytes -= len(dropped)


def feed_body(session: Session, view: FeedView, validators: Validators, now: datetime, config: Mapping[str, Any],
              kept: FeedBodies | None) -> bytes:
    """The feed's body: the one kept under its current ETag, else built (``build_feed``) and kept."""
    if kept is None or view.scope == "contact":
        return build_feed(session, view, now, config)
    body = kept.get(view.id, validators.etag)
    if body is None:
        body = build_feed(session, view, now, config)
        kept.put(view.id, validators.etag, body)
    return body


@lru_cache(maxsize=16)
def _rows_statement(scope: str, partnered: bool) -> Select:
    # The times come back as stored (ISO text on SQLite, timestamptz on PostgreSQL), which orders
    # like the times themselves: build_feed keeps each zone's earliest start and latest end and
    # converts only those, rather than every row's. They come from the same statement as the texts
    # so every TZID an event uses gets its VTIMEZONE even while other transactions commit.
    if scope == "speaker":
        # One range of the speaker's own rows, stored together in feed order (api.bookings.models.SpeakerFeedEvent).
        table = SpeakerFeedEvent.__table__
        columns, key = (table.c.booking_id, table.c.ical_vevent), table.c.booking_id
        statement = select(*columns, table.c.timezone, type_coerce(table.c.starts_at, NullType()),
                           type_coerce(table.c.ends_at, NullType()))
    else:
        table = Booking.__table__
        key = table.c.id
        statement = (select(table.c.id, BookingRendering.ical_vevent, table.c.timezone,
                            type_coerce(table.c.starts_at, NullType()), type_coerce(table.c.ends_at, NullType()))
                     .outerjoin(BookingRendering, BookingRendering.booking_id == table.c.id))
    return statement.where(*_in_scope(table, scope, partnered)).order_by(table.c.starts_at, key)


def build_feed(session: Session, view: FeedView, now: datetime, config: Mapping[str, Any]) -> bytes:
    """The feed calendar; VEVENTs not stored (new, or cleared by a rename) are filled through ``api.derived``."""
    if view.scope == "contact":
        return _contact_feed(session, view, now, config)
    connection = session.connection()
    statement = _rows_statement(view.scope, bool(view.partner_id))
    rows = connection.execute(statement, _scope_params(view, day_start(now), config)).all()
    spans = _zone_spans(rows, _stored_time(connection.dialect))
    texts = [row[1] for row in rows]
    missing = [row[0] for row in rows if row[1] is None]
    if missing:
        rendered = derived.fill(session, "booking", ("vevent",), missing, config)
        texts = [rendered[row[0]]["vevent"] if row[1] is None else row[1] for row in rows]
    return render.feed(texts, spans, name=view.name, timezone=view.timezone)


def contact_booking_ids(contact_id: str):
    """The bookings a board member's feed shows: the sessions they attend and the classes where they hold a seat
    (registered, attended or no-show; never the waiting list or a cancelled place). The one place to add other
    ways of taking part."""
    return union(
        select(booking_attendees.c.booking_id).where(booking_attendees.c.contact_id == contact_id),
        select(Registration.booking_id).where(Registration.contact_id == contact_id, Registration.status.in_(SEATED)))


def _contact_feed(session: Session, view: FeedView, now: datetime, config: Mapping[str, Any]) -> bytes:
    """A board member's feed, rendered on request (a person attends few sessions) and without the ``brief``."""
    params = _scope_params(view, day_start(now), config)
    table = Booking.__table__
    bookings = session.scalars(
        select(Booking).where(Booking.id.in_(contact_booking_ids(view.contact_id)), *_in_scope(table, "contact", False))
        .options(joinedload(Booking.trust), selectinload(Booking.topics),
                 selectinload(Booking.speakers).joinedload(BookingSpeaker.speaker))
        .order_by(Booking.starts_at, Booking.id), params).all()
    spans = render.timezone_spans(event_data(b, config) for b in bookings)
    return render.feed([contact_vevent(b, config) for b in bookings], spans, name=view.name, timezone=view.timezone)


def _zone_spans(rows, to_time) -> dict[str, tuple[datetime, datetime]]:
    """Each zone's earliest start and latest end (what its VTIMEZONE must cover), from stored values."""
    spans: dict[str, list] = {}
    for _id, _text, tzid, starts_at, ends_at in rows:
        span = spans.get(tzid)
        if span is None:
            spans[tzid] = [starts_at, ends_at]
            continue
        span[0], span[1] = min(span[0], starts_at), max(span[1], ends_at)
    return {tzid: (to_time(low), to_time(high)) for tzid, (low, high) in spans.items()}


@lru_cache(maxsize=4)
def _stored_time(dialect):
    """The function that turns a booking time as stored (``_rows_statement``) into an aware datetime."""
    processor = Booking.__table__.c.starts_at.type.dialect_impl(dialect).result_processor(dialect, None)
    return processor or (lambda value: value)
