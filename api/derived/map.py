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
                            speakers' names, the topics' names (``api.bookings.calendar``)
==========================  =======================================================================

A booking's own writes (fields, status, slots, attendees, topics) re-render all three in the same
transaction (``api.bookings.events``). Everything else it shows is a ``Dependency``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from api import derived
from api.accounts.models import Partner
from api.bookings import documents
from api.bookings.calendar import feed_vevent
from api.bookings.models import Booking, BookingSpeaker, booking_attendees, booking_topics
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


BOOKING = Owner(name="booking", model=Booking, table=Booking.__table__, key="id",
                renderings=(JSON, JSON_PARTNER, VEVENT), load=_load_bookings, render=_render_booking)


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
    ignored = frozenset(r.column for r in BOOKING.renderings)
    return [rollup.counter(), data_state.counter(DATA_STATE_WATCHES, DATA_STATE_TABLES, ignored)]


def install() -> None:
    derived.register(owners=[BOOKING], dependencies=DEPENDENCIES, counters=counters())
