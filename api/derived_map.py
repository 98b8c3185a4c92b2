"""The map of derived state: every stored rendering and counter, and what each depends on.

``create_app`` registers it (``install``). To add a dependency (a rendering starts to show another
model's column), add a ``Dependency`` below naming the column, the renderings that show it, and the
SQL that finds the owners showing a given row; ``tests/derived/test_map.py`` then generates its test
(add how to change it through the API there), and fails until the entry exists. A new kind of owner
(a masterclass registration, an email message, a survey response) is an ``Owner`` with its renderings,
its loader and its renderer; a new counter is a ``Counter``, placed in the list in lock order.

What the booking's renderings show:

==========================  =======================================================================
Rendering                   Shows
==========================  =======================================================================
``json``                    the booking's own fields, slots, attendees (ids, in name order), topics
                            (slugs), speakers' names and ``updated_at`` (``BookingSchema``)
``json_partner``            the same without ``notes`` and ``attendee_ids``
``vevent``                  the booking's fields, ``updated_at`` (DTSTAMP), the trust's name, the
                            speakers' names, the topics' names (``api.calendar.events``)
==========================  =======================================================================

A masterclass's ``json`` and ``json_partner`` also show its registrations' counts (``registered_count``,
``waitlisted_count``, ``seats_left``). Every registration write goes through one function
(``api.registrations.service._changed``), which reports the class with ``derived.changed``: its JSON is
cleared and its version bumped, without a ``booking.updated`` event (SPEC, Masterclasses). A new registration
is an insert, which the flush-time ``Dependency`` check (dirty rows only) would not see.

A booking's own writes (fields, status, slots, attendees, topics) re-render all three in the same
transaction (``api.bookings.events``), and rewrite the booking's rows of ``speaker_feed_events`` (each
speaker's copy of the VEVENT with what a feed filters on). Everything else it shows is a ``Dependency``.

Counters, in lock order: the report months to rebuild (``api.reports.rollup``: the columns it counts are
its ``_COUNTED``), then the data state (``api.derived.state``: feed ETags, and the booking list's
per-process count cache, which is valid for one data-state version), which every write of what a feed
or a booking list shows moves (``DATA_STATE_WATCHES``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from api import derived
from api.accounts.models import Partner
from api.bookings import documents
from api.calendar.events import feed_vevent
from api.bookings.models import (Booking, BookingRendering, BookingSpeaker, SpeakerFeedEvent, booking_attendees,
                                 booking_topics)
from api.derived import Counter, Dependency, Owner, Rendering
from api.derived import state as data_state
from api.reports import rollup
from api.speakers.models import Speaker
from api.topics.models import Topic
from api.trusts.models import Contact, Trust

JSON = Rendering("json", "api_doc", in_json=True,
                 description="The booking's JSON as coordinators and viewers read it (BookingSchema).")
JSON_PARTNER = Rendering("json_partner", "api_doc_partner", in_json=True,
                         description="The same for its partner: without notes and attendee_ids.")
VEVENT = Rendering("vevent", "ical_vevent", in_json=False,
                   description="The feed VEVENT (public: no attendees, no organizer, no notes).")


def _load_bookings(session: Session, ids: Sequence[str]) -> list[Booking]:
    return session.scalars(select(Booking).where(Booking.id.in_(ids))
                           .options(joinedload(Booking.trust), *documents.load_options())).unique().all()


def _render_booking(booking: Booking, config, names: Sequence[str]) -> dict[str, str]:
    texts = {}
    if "json" in names or "json_partner" in names:
        texts["json"], texts["json_partner"] = documents.render(booking)
    if "vevent" in names:
        texts["vevent"] = feed_vevent(booking, config)
    return {name: texts[name] for name in names}


_renderings = BookingRendering.__table__
_speaker_events = SpeakerFeedEvent.__table__
_COLUMNS = {r.name: r.column for r in (JSON, JSON_PARTNER, VEVENT)}


def _upsert(connection, names: Sequence[str], rows: list[dict], *, only_if_missing: bool) -> None:
    """INSERT ... ON CONFLICT DO UPDATE of ``booking_renderings`` (one executemany); ``only_if_missing``
    keeps a text already stored."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(_renderings)
    columns = [_COLUMNS[n] for n in names]
    stmt = stmt.on_conflict_do_update(
        index_elements=[_renderings.c.booking_id], set_={c: stmt.excluded[c] for c in columns},
        where=_renderings.c[columns[0]].is_(None) if only_if_missing else None)
    connection.execute(stmt, [{"booking_id": row["id"], **{_COLUMNS[n]: row[n] for n in names}} for row in rows])


def _write_bookings(session: Session, bookings: Sequence[Booking], rows: list[dict], created: bool) -> None:
    """After booking writes: every rendering, and each speaker's feed events rewritten from the booking."""
    connection = session.connection()
    _upsert(connection, list(_COLUMNS), rows, only_if_missing=False)
    if not created:
        ids = [b.id for b in bookings]
        connection.execute(delete(_speaker_events).where(_speaker_events.c.booking_id.in_(ids)))
    events = [{"speaker_id": slot.speaker_id, "starts_at": b.starts_at, "booking_id": b.id, "ends_at": b.ends_at,
               "status": b.status, "cancelled_at": b.cancelled_at, "partner_id": b.partner_id,
               "timezone": b.timezone, "ical_vevent": row["vevent"]}
              for b, row in zip(bookings, rows) for slot in b.speakers]
    if events:
        connection.execute(insert(_speaker_events), events)


def _fill_bookings(session: Session, rows: list[dict]) -> None:
    """After a read rendered missing texts: store each where it is still missing."""
    if not rows:
        return
    connection = session.connection()
    names = [n for n in rows[0] if n != "id"]
    for group in (["json", "json_partner"], ["vevent"]):
        if group[0] in names:
            _upsert(connection, group, rows, only_if_missing=True)
    if "vevent" in names:
        connection.execute(
            update(_speaker_events).where(_speaker_events.c.booking_id == bindparam("b_id"),
                                          _speaker_events.c.ical_vevent.is_(None))
            .values(ical_vevent=bindparam("b_vevent")),
            [{"b_id": row["id"], "b_vevent": row["vevent"]} for row in rows])


def _clear_bookings(session: Session, booking_ids, columns: Sequence[str]) -> None:
    connection = session.connection()
    connection.execute(update(_renderings).where(_renderings.c.booking_id.in_(booking_ids))
                       .values({c: None for c in columns}))
    if "ical_vevent" in columns:
        connection.execute(update(_speaker_events).where(_speaker_events.c.booking_id.in_(booking_ids))
                           .values(ical_vevent=None))


BOOKING = Owner(name="booking", model=Booking, renderings=(JSON, JSON_PARTNER, VEVENT), load=_load_bookings,
                render=_render_booking, write=_write_bookings, fill_in=_fill_bookings, clear=_clear_bookings)


def _by_slot(ids: list[str]):
    return select(BookingSpeaker.booking_id).where(BookingSpeaker.speaker_id.in_(ids))


def _by_attendee(ids: list[str]):
    return select(booking_attendees.c.booking_id).where(booking_attendees.c.contact_id.in_(ids))


def _by_topic(ids: list[str]):
    return select(booking_topics.c.booking_id).where(booking_topics.c.topic_id.in_(ids))


def _by_trust(ids: list[str]):
    return select(Booking.id).where(Booking.trust_id.in_(ids))


DEPENDENCIES = (
    Dependency("speaker.name", "booking", Speaker, ("name",), ("json", "json_partner", "vevent"), _by_slot,
               description="speakers[].name; the VEVENT's description. Renames and erasures."),
    Dependency("contact.name", "booking", Contact, ("name",), ("json",), _by_attendee,
               description="attendee_ids are listed in name order. Renames and erasures."),
    Dependency("topic.slug", "booking", Topic, ("slug",), ("json", "json_partner"), _by_topic,
               description="topics (slugs)."),
    Dependency("topic.name", "booking", Topic, ("name",), ("vevent",), _by_topic,
               description="The VEVENT's CATEGORIES and description."),
    Dependency("trust.name", "booking", Trust, ("name",), ("vevent",), _by_trust,
               description="The VEVENT's description."),
)

# What moves the data state (feed ETags, cached list counts): everything a feed or a booking list shows.
DATA_STATE_WATCHES = (Booking, BookingSpeaker, Trust, Speaker, Topic, Partner)
DATA_STATE_TABLES = frozenset({m.__tablename__ for m in DATA_STATE_WATCHES} | {"booking_topics"})


def counters() -> list[Counter]:
    """In lock order: report months (rows in month order), then the data state's one row, last."""
    return [rollup.counter(), data_state.counter(DATA_STATE_WATCHES, DATA_STATE_TABLES)]


def install() -> None:
    derived.register(owners=[BOOKING], dependencies=DEPENDENCIES, counters=counters())
