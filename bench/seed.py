"""Bulk-seed a benchmark database with N bookings and proportionate trusts, speakers, contacts, outcomes.

Bookings sit on a grid (one time per day, several trusts in parallel) so no trust or speaker is double
booked, as in the real programme; ~40% are delivered with an outcome, a few cancelled, the rest upcoming.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from api import derived
from api.bookings import documents
from api import derived_map
from api.bookings.models import Booking, BookingSpeaker, Registration, booking_attendees, booking_topics
from api.outcomes.models import NextStep, Outcome
from api.speakers.models import AvailabilityWindow, Speaker
from api.topics.models import Topic
from api.topics.service import seed_catalogue
from api.trusts.models import REGIONS, TRUST_TYPES, Contact, Trust

UTC = timezone.utc
ZONES = ["Europe/London", "Australia/Sydney", "America/New_York", "Asia/Kolkata", "Europe/Tallinn"]


def _id() -> str:
    return str(uuid.uuid4())


def seed(session: Session, bookings: int, *, now: datetime | None = None) -> dict:
    rng = random.Random(bookings)
    now = now or datetime.now(UTC)
    parallel = max(5, min(200, bookings // 200))          # trusts booked on the same day
    n_trusts = parallel * 2
    n_speakers = parallel * 2
    days = -(-bookings // parallel)
    first_day = (now - timedelta(days=int(days * 0.7))).replace(hour=10, minute=0, second=0, microsecond=0)

    seed_catalogue(session)
    topic_ids = list(session.scalars(select(Topic.id)))
    stamp = now

    trusts = [{"id": _id(), "name": f"Bench Trust {i}", "ods_code": f"B{i:04d}"[:5], "region": REGIONS[i % 7],
               "trust_type": TRUST_TYPES[i % 7], "timezone": "Europe/London", "created_at": stamp,
               "updated_at": stamp, "version": 1} for i in range(n_trusts)]
    session.execute(insert(Trust), trusts)
    contacts = [{"id": _id(), "trust_id": t["id"], "name": f"Contact {j} of {t['name']}", "role": "Chair",
                 "email": f"c{j}.{t['ods_code'].lower()}@example.nhs.uk", "created_at": stamp,
                 "updated_at": stamp, "version": 1} for t in trusts for j in range(3)]
    session.execute(insert(Contact), contacts)
    speakers = [{"id": _id(), "name": f"Speaker {i}", "email": f"s{i}@example.org", "timezone": ZONES[i % 5],
                 "active": True, "created_at": stamp, "updated_at": stamp, "version": 1} for i in range(n_speakers)]
    session.execute(insert(Speaker), speakers)
    # Everyone available around the clock on weekdays, so the grid fits and the slot finder has work to do.
    session.execute(insert(AvailabilityWindow), [
        {"id": _id(), "speaker_id": s["id"], "weekday": d, "start_minute": 0, "end_minute": 1440}
        for s in speakers for d in range(7)])

    contacts_by_trust: dict[str, list[str]] = {}
    for c in contacts:
        contacts_by_trust.setdefault(c["trust_id"], []).append(c["id"])

    rows, slots, topics_rows, attendee_rows, outcomes, steps = [], [], [], [], [], []
    for k in range(bookings):
        day, lane = divmod(k, parallel)
        starts = first_day + timedelta(days=day)
        ends = starts + timedelta(hours=3)
        trust = trusts[(lane + day) % n_trusts]
        if ends < now:
            status = "cancelled" if k % 17 == 0 else "delivered"
        else:
            status = ("requested", "provisional", "confirmed")[k % 3]
        booking_id = _id()
        live = status != "cancelled"
        rows.append({"id": booking_id, "trust_id": trust["id"], "kind": "board_development", "format": "virtual",
                     "status": status, "live": live, "starts_at": starts, "ends_at": ends,
                     "timezone": "Europe/London", "title": f"Board development session {k}",
                     "video_url": "https://meet.example.org/room", "brief": "Tailored to the board's priorities.",
                     "notes": "internal", "sequence": 0 if live else 1,
                     "cancelled_at": None if live else ends, "created_at": stamp, "updated_at": stamp,
                     "version": 1})
        for offset in (0, 1) if k % 2 else (0,):
            speaker = speakers[(lane * 2 + offset + day) % n_speakers]
            slots.append({"id": _id(), "booking_id": booking_id, "speaker_id": speaker["id"], "role": "guest",
                          "own_slot": False, "starts_at": starts, "ends_at": ends, "live": live})
        for topic_id in rng.sample(topic_ids, 2):
            topics_rows.append({"booking_id": booking_id, "topic_id": topic_id})
        for contact_id in contacts_by_trust[trust["id"]][:2]:
            attendee_rows.append({"booking_id": booking_id, "contact_id": contact_id})
        if status == "delivered" and k % 5 < 2:
            outcome_id = _id()
            outcomes.append({"id": outcome_id, "booking_id": booking_id, "summary": "The board agreed priorities.",
                             "attendance": 12, "digital_definitions": ["Better services for patients"],
                             "confidence_before": 2 + k % 2, "confidence_after": 4, "feedback_score": 8,
                             "created_at": stamp, "updated_at": stamp, "version": 1})
            steps.append({"id": _id(), "outcome_id": outcome_id, "position": 0, "description": "Agree a digital strategy",
                          "owner": "Chief Executive", "done": bool(k % 3), "created_at": stamp, "updated_at": stamp,
                          "version": 1})
        if len(rows) >= 5000:
            _flush(session, rows, slots, topics_rows, attendee_rows, outcomes, steps)
    _flush(session, rows, slots, topics_rows, attendee_rows, outcomes, steps)
    _masterclass(session, contacts, now, stamp)
    session.commit()
    rendered = render_stored(session)
    return {"bookings": bookings, "trusts": n_trusts, "speakers": n_speakers, "contacts": len(contacts),
            "rendered": rendered}


def _masterclass(session: Session, contacts: list[dict], now: datetime, stamp: datetime) -> None:
    """One class for board members of many trusts, on a Saturday night no board session uses: up to 150 people
    registered, the rest of its first 200 registrants waitlisted (the registrations list and its GET)."""
    starts = (now + timedelta(days=30)).replace(hour=22, minute=0, second=0, microsecond=0)
    starts += timedelta(days=(5 - starts.weekday()) % 7)
    booking_id = _id()
    session.execute(insert(Booking), [{
        "id": booking_id, "trust_id": None, "kind": "masterclass", "format": "virtual", "status": "confirmed",
        "live": True, "starts_at": starts, "ends_at": starts + timedelta(hours=3), "timezone": "Europe/London",
        "title": "Masterclass: user-centred design for NHS leaders", "capacity": 150, "sequence": 0,
        "created_at": stamp, "updated_at": stamp, "version": 1}])
    people = contacts[:200]
    if people:
        session.execute(insert(Registration), [{
            "id": _id(), "booking_id": booking_id, "contact_id": c["id"], "trust_id": c["trust_id"],
            "status": "registered" if i < 150 else "waitlisted", "position": i + 1, "created_at": stamp,
            "updated_at": stamp, "version": 1} for i, c in enumerate(people)])


def render_stored(session: Session, batch: int = 500) -> int:
    """Render every booking's stored texts (feed VEVENT, JSON documents) as the app's writes do, so the
    tables are as wide as in production, where every write stores them. The application's own code."""
    derived_map.install()
    ids = list(session.scalars(select(Booking.id).order_by(Booking.id)))
    for start in range(0, len(ids), batch):
        chunk = session.scalars(select(Booking).where(Booking.id.in_(ids[start:start + batch]))
                                .options(*documents.load_options(), selectinload(Booking.trust))).all()
        derived.refresh_many(session, chunk, {})
        session.commit()
        session.expunge_all()
    return len(ids)


def _flush(session, rows, slots, topics_rows, attendee_rows, outcomes, steps) -> None:
    for model, batch in ((Booking, rows), (BookingSpeaker, slots), (booking_topics, topics_rows),
                         (booking_attendees, attendee_rows), (Outcome, outcomes), (NextStep, steps)):
        if batch:
            session.execute(insert(model), batch)
            batch.clear()
