"""Demo masterclasses: cohort events on user-centred design and data for board members of many trusts.

Three past classes with registrations from many trusts (most attended, a few no-shows and cancellations) and
one coming up that is full, with a waiting list; some places were booked through NHS Providers' system. The
classes are on Fridays, when the demo has no board session, so nobody is in two events at once.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.orm import Session

from api import derived
from api.bookings.models import Booking, BookingSpeaker, Registration
from api.demo.bookings import LENGTH, _speaker_slots, _start

CLASSES = [  # (title, topic slugs, days from today, capacity, people registering)
    ("Masterclass: user-centred design for NHS leaders", ["user-centred-design", "what-digital-means"], -300, 24, 22),
    ("Masterclass: data and the board", ["data", "integrated-care-systems"], -180, 20, 18),
    ("Masterclass: prioritisation and stopping work", ["prioritisation", "outcomes-over-outputs"], -70, 16, 16),
    ("Masterclass: user-centred design for NHS leaders (spring cohort)", ["user-centred-design"], 45, 12, 15),
]


def _friday(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7)


def seed_masterclasses(session: Session, rng: random.Random, trusts, speakers, topics, partner,
                       today: date | None = None) -> int:
    """Add the demo classes and their registrations; returns how many classes were added (none on a re-run:
    ``trusts`` are only those this run added)."""
    people = [c for t in trusts for c in t.contacts]
    if len(people) < 20 or not speakers:
        return 0
    today = today or date.today()
    classes = []
    for title, slugs, offset, capacity, wanted in CLASSES:
        starts_at = _start(_friday(today + timedelta(days=offset)), 10)
        past = starts_at.date() < today
        created = starts_at - timedelta(days=60)
        booking = Booking(kind="masterclass", format="virtual", status="delivered" if past else "confirmed", live=True,
                          starts_at=starts_at, ends_at=starts_at + LENGTH, timezone="Europe/London", title=title,
                          capacity=capacity, video_url=f"https://teams.microsoft.com/l/meetup-join/{rng.getrandbits(48):012x}",
                          topics=[topics[s] for s in slugs if s in topics], sequence=0, created_at=created,
                          updated_at=starts_at + LENGTH + timedelta(days=1) if past else created)
        for speaker, start, end, own in _speaker_slots(rng, speakers, starts_at, booking.ends_at, 1):
            booking.speakers.append(BookingSpeaker(speaker_id=speaker.id, role="facilitator", own_slot=own,
                                                   starts_at=start, ends_at=end, live=True))
        # One board member from each of many trusts, in the order they registered.
        chosen = rng.sample(sorted({c.trust_id: c for c in rng.sample(people, len(people))}.values(),
                                   key=lambda c: c.id), min(wanted, len(trusts)))
        for position, contact in enumerate(chosen, start=1):
            seated = position <= capacity
            status = "waitlisted" if not seated else "registered"
            if past and seated:
                status = rng.choices(("attended", "no_show", "cancelled"), (8, 1, 1))[0]
            by_partner = partner is not None and position % 3 == 0
            booking.registrations.append(Registration(
                contact_id=contact.id, trust_id=contact.trust_id, status=status, position=position,
                partner_id=partner.id if by_partner else None,
                given_name=contact.name if by_partner else None, given_email=contact.email if by_partner else None,
                created_at=created + timedelta(days=position), updated_at=created + timedelta(days=position)))
        session.add(booking)
        classes.append(booking)
    session.flush()
    derived.refresh_many(session, classes)
    return len(classes)
