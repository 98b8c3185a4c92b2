"""Demo bookings: the programme's history since 2020 (with outcomes and interviews) and what is coming up.

Every booking sits on a day of its own, so no trust or speaker is ever double booked, and every
speaker's slot lies inside both the booking and the speaker's weekly availability.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api import derived
from api.bookings.models import Booking, BookingSpeaker
from api.outcomes.models import NextStep, Outcome
from api.scheduling.availability import available_intervals, covers
from api.scheduling.conflicts import availability_exceptions, weekly_windows
from api.trusts.models import Interaction

LONDON = ZoneInfo("Europe/London")
LENGTH = timedelta(minutes=180)
TITLES = {"board_development": "Board development session", "masterclass": "Masterclass",
          "follow_up": "Follow-up session"}
DEFINITIONS = [
    "Using technology to make care safer and simpler for patients and staff.",
    "Redesigning services around what people need, with technology as an enabler.",
    "Data we can trust, shared at the point of care.",
    "Getting rid of paper and duplicate data entry.",
    "A culture where the board asks 'what problem are we solving?' first.",
    "Digital is how we work now, not a separate programme.",
    "Giving patients access to their own records and appointments online.",
]
STEPS = [
    ("Agree a one-page definition of digital for the trust strategy", "Chair"),
    ("Nominate a board digital champion", "Chief Executive"),
    ("Review the digital portfolio and stop two low-value projects", "Chief Digital Information Officer"),
    ("Add a cyber risk deep-dive to the board cycle", "Director of Finance"),
    ("Run a patient panel on the new outpatient booking journey", "Chief Nursing Officer"),
    ("Move digital funding from capital projects to a recurring service budget", "Director of Finance"),
    ("Set three outcome measures for the EPR programme", "Medical Director"),
    ("Join the ICS data sharing working group", "Chief Digital Information Officer"),
]
CANCEL_REASONS = ["Board meeting moved because of industrial action.", "Chief executive departure; to rebook.",
                  "CQC inspection the same week.", "Winter pressures: board stood down non-essential meetings."]
LOCATIONS = ["Boardroom, trust headquarters", "Education centre, main hospital site",
             "Committee room 2, trust headquarters"]


def _start(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(timezone.utc)


def _speaker_slots(rng: random.Random, speakers: list, starts_at: datetime, ends_at: datetime,
                   wanted: int) -> list[tuple]:
    """Up to ``wanted`` (speaker, start, end, own_slot) that fit each speaker's availability."""
    chosen = []
    for speaker in rng.sample(speakers, len(speakers)):
        free = available_intervals(speaker.timezone, weekly_windows(speaker), availability_exceptions(speaker),
                                   starts_at, ends_at)
        options = [(starts_at, ends_at, False)] + [
            (starts_at + timedelta(minutes=m), starts_at + timedelta(minutes=m + 60), True) for m in (60, 0, 120)]
        for start, end, own in options:
            if covers(free, start, end):
                chosen.append((speaker, start, end, own))
                break
        if len(chosen) == wanted:
            break
    return chosen


def _booking(rng, trust, topics, kind, status, starts_at, fmt, speakers, created_at, **extra) -> Booking:
    ends_at = starts_at + LENGTH
    live = status != "cancelled"
    booking = Booking(
        trust_id=trust.id, kind=kind, format=fmt, status=status, live=live, starts_at=starts_at, ends_at=ends_at,
        timezone=trust.timezone or "Europe/London", title=f"{TITLES[kind]}: {trust.name}",
        location=None if fmt == "virtual" else rng.choice(LOCATIONS),
        video_url=None if fmt == "in_person" else f"https://teams.microsoft.com/l/meetup-join/{rng.getrandbits(48):012x}",
        topics=rng.sample(topics, 2), attendees=rng.sample(trust.contacts, min(3, len(trust.contacts))),
        brief=f"{trust.name} board: tailor to their digital strategy refresh.", sequence=0 if live else 1,
        created_at=created_at, updated_at=created_at, capacity=30 if kind == "masterclass" else None, **extra)
    for speaker, start, end, own in _speaker_slots(rng, speakers, starts_at, ends_at, rng.choice((1, 1, 2))):
        booking.speakers.append(BookingSpeaker(speaker_id=speaker.id, role="guest", own_slot=own,
                                               starts_at=start, ends_at=end, live=live))
    return booking


def _outcome(rng, booking: Booking, topics: list, today: date) -> Outcome:
    before = rng.randint(1, 3)
    day = booking.starts_at.date()
    steps = []
    for position, (description, owner) in enumerate(rng.sample(STEPS, rng.randint(1, 3))):
        due = day + timedelta(days=rng.choice((30, 60, 90)))
        done = due < today and rng.random() < 0.7
        steps.append(NextStep(position=position, description=description, owner=owner, due_on=due, done=done,
                              done_at=datetime.combine(due, time(12), tzinfo=timezone.utc) if done else None))
    return Outcome(
        booking_id=booking.id, attendance=rng.randint(6, 16),
        summary="The board agreed what digital means for the trust and where to focus first.",
        digital_definitions=rng.sample(DEFINITIONS, 2), confidence_before=before,
        confidence_after=min(5, before + rng.randint(1, 2)), feedback_score=rng.randint(6, 10),
        themes=rng.sample(topics, 2), next_steps=steps)


def seed_bookings(session: Session, rng: random.Random, trusts, speakers, topics, partner, today=None) -> int:
    """Add the demo history and upcoming bookings; returns how many bookings were added."""
    if not trusts or not speakers:
        return 0
    today = today or date.today()
    topic_list = [topics[slug] for slug in sorted(topics)]
    used_days: set[date] = set()
    bookings: list[Booking] = []

    def free_weekday(day: date) -> date:
        while day.weekday() > 3 or day in used_days:  # Monday to Thursday, one session a day
            day += timedelta(days=1)
        used_days.add(day)
        return day

    # History: every few weeks from January 2020 to last month, busier in the first 18 months.
    day, last = date(2020, 1, 6), today.replace(day=1) - timedelta(days=1)
    history = []
    while True:
        day = free_weekday(day)
        if day > last:
            used_days.discard(day)
            break
        history.append(day)
        day += timedelta(days=rng.randint(6, 12) if day < date(2021, 7, 1) else rng.randint(18, 40))
    # One trust in six has not had a session yet, so coverage reads like a programme still growing.
    engaged = [t for i, t in enumerate(trusts) if i % 6 != 5] or trusts
    for index, day in enumerate(history):
        trust = engaged[index % len(engaged)] if index < len(engaged) else rng.choice(engaged)
        starts_at = _start(day, rng.choice((9, 10, 13)))
        cancelled = rng.random() < 0.08
        fmt = rng.choices(("virtual", "in_person", "hybrid"), (8, 1, 1))[0]
        kind = rng.choices(("board_development", "masterclass", "follow_up"), (7, 2, 1))[0]
        created = starts_at - timedelta(days=rng.randint(30, 75))
        if cancelled:
            booking = _booking(rng, trust, topic_list, kind, "cancelled", starts_at, fmt, speakers, created,
                               cancel_reason=rng.choice(CANCEL_REASONS),
                               cancelled_at=starts_at - timedelta(days=rng.randint(3, 20)))
        else:
            booking = _booking(rng, trust, topic_list, kind, "delivered", starts_at, fmt, speakers, created)
        booking.updated_at = booking.cancelled_at or booking.ends_at + timedelta(days=1)
        session.add(booking)
        bookings.append(booking)
    session.flush()

    for booking in bookings:
        if booking.status != "delivered":
            continue
        trust = next(t for t in trusts if t.id == booking.trust_id)
        if trust.contacts:
            session.add(Interaction(
                trust_id=trust.id, kind="interview", booking_id=booking.id,
                occurred_at=booking.starts_at - timedelta(days=rng.randint(7, 21)),
                summary="Pre-session interview: priorities, the board's digital maturity, what success looks like.",
                contacts=[rng.choice(trust.contacts)]))
        if rng.random() < 0.85:
            session.add(_outcome(rng, booking, topic_list, today))

    # Coming up: two to four months ahead, some requested by NHS Providers' system.
    upcoming = []
    day = today + timedelta(days=7)
    for index in range(14):
        day = free_weekday(day)
        by_partner = index % 4 == 1 and partner is not None
        status = "requested" if by_partner else rng.choice(("requested", "provisional", "confirmed", "confirmed"))
        trust = rng.choice(trusts)
        starts_at = _start(day, rng.choice((9, 10, 13)))
        booking = _booking(rng, trust, topic_list, "board_development", status, starts_at,
                           rng.choices(("virtual", "in_person", "hybrid"), (8, 1, 1))[0], speakers,
                           datetime.now(timezone.utc) - timedelta(days=rng.randint(1, 30)),
                           partner_id=partner.id if by_partner else None,
                           external_ref=f"NHSP-{day.year}-{1000 + index}" if by_partner else None)
        session.add(booking)
        upcoming.append(booking)
        day += timedelta(days=rng.randint(3, 9))
    session.flush()
    derived.refresh_many(session, bookings + upcoming)  # their stored renderings, as a booking write stores them
    return len(bookings) + len(upcoming)
