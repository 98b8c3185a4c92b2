"""Demo attendee feedback: answers from board members to the surveys of the latest delivered sessions."""

from __future__ import annotations

import random
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.auth import hash_token
from api.bookings.models import Booking
from api.feedback.models import SurveyLink, SurveyResponse

NEXT_STEPS = ["Ask the executive for a one-page digital strategy", "Put digital on every board agenda this year",
              "Visit the team building the patient app", "Stop one project that is not delivering",
              "Ask for outcome measures in the next business case", None]
SESSIONS = 12


def seed_feedback(session: Session) -> int:
    """Survey answers for the latest delivered sessions, unless there are answers already (safe to run twice).
    Returns how many."""
    if session.scalar(select(SurveyResponse.id).limit(1)) is not None:
        return 0
    rng = random.Random(2017)
    bookings = session.scalars(
        select(Booking).where(Booking.status == "delivered")
        .options(selectinload(Booking.attendees)).order_by(Booking.starts_at.desc()).limit(SESSIONS)).all()
    count = 0
    for booking in bookings:
        # The demo's links are not handed out: a coordinator creates a new one to try the form.
        link = SurveyLink(booking_id=booking.id, token_hash=hash_token(secrets.token_urlsafe(32)))
        session.add(link)
        session.flush()
        for contact in booking.attendees:
            before = rng.randint(1, 4)
            named = rng.random() < 0.6
            session.add(SurveyResponse(
                booking_id=booking.id, link_id=link.id, contact_id=contact.id if named else None,
                name=contact.name if named else None, confidence_before=before,
                confidence_after=min(5, before + rng.choice([0, 1, 1, 2])), usefulness=rng.choice([6, 7, 8, 9, 9, 10]),
                next_step=rng.choice(NEXT_STEPS)))
            count += 1
    session.flush()
    return count
