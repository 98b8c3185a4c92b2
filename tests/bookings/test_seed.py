"""The demo programme's bookings are realistic and obey the booking rules."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import selectinload

TODAY = date(2026, 11, 26)


def test_seeded_bookings_follow_the_rules(db, coordinator):
    from api.bookings.models import Booking
    from api.outcomes.models import Outcome
    from api.scheduling.availability import available_intervals, covers, overlaps
    from api.demo import seed
    from api.speakers.models import Speaker
    from api.scheduling.conflicts import availability_exceptions, weekly_windows
    from api.trusts.models import Interaction

    seed(db(), today=TODAY)
    db().commit()
    bookings = db().scalars(select(Booking).options(selectinload(Booking.speakers))).all()
    statuses = Counter(b.status for b in bookings)
    delivered = [b for b in bookings if b.status == "delivered"]
    upcoming = [b for b in bookings if b.status in ("requested", "provisional", "confirmed")]
    assert len(delivered) >= 60 and statuses["cancelled"] >= 1 and 10 <= len(upcoming) <= 20
    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc)
    assert min(b.starts_at for b in delivered).year == 2020
    assert all(b.ends_at < now.replace(day=1) for b in delivered)
    assert all(b.starts_at > now for b in upcoming)
    assert len({b.trust_id for b in delivered}) >= 30
    assert Counter(b.format for b in delivered).most_common(1)[0][0] == "virtual"
    assert all(b.location for b in bookings if b.format != "virtual")
    partner_made = [b for b in upcoming if b.partner_id]
    assert len(partner_made) >= 2 and all(b.external_ref and b.status == "requested" for b in partner_made)
    assert all(b.cancel_reason and b.cancelled_at and not b.live and b.sequence == 1
               for b in bookings if b.status == "cancelled")

    speakers = {s.id: s for s in db().scalars(select(Speaker))}
    live = [b for b in bookings if b.live]
    for b in bookings:
        assert b.live == (b.status != "cancelled")
        if b.status == "delivered":
            assert 1 <= len(b.speakers) <= 2
        for slot in b.speakers:
            assert slot.live == b.live and b.starts_at <= slot.starts_at < slot.ends_at <= b.ends_at
            assert slot.own_slot or (slot.starts_at, slot.ends_at) == (b.starts_at, b.ends_at)
            s = speakers[slot.speaker_id]
            free = available_intervals(s.timezone, weekly_windows(s), availability_exceptions(s),
                                       slot.starts_at, slot.ends_at)
            assert covers(free, slot.starts_at, slot.ends_at), (s.name, slot.starts_at)
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            if overlaps(a.starts_at, a.ends_at, b.starts_at, b.ends_at):
                assert a.trust_id != b.trust_id
                assert not {s.speaker_id for s in a.speakers} & {s.speaker_id for s in b.speakers}

    outcomes = {o.booking_id: o for o in db().scalars(select(Outcome).options(selectinload(Outcome.next_steps)))}
    assert set(outcomes) <= {b.id for b in delivered} and len(outcomes) >= 0.7 * len(delivered)
    assert all(1 <= len(o.next_steps) <= 3 and o.confidence_after >= o.confidence_before for o in outcomes.values())
    assert any(step.done for o in outcomes.values() for step in o.next_steps)
    interviews = db().scalars(select(Interaction).where(Interaction.kind == "interview")).all()
    assert len(interviews) >= 0.9 * len(delivered) and all(i.contacts for i in interviews)

    # Masterclasses for many trusts: three past with attendance recorded, one coming up with a waiting list.
    classes = [b for b in bookings if b.kind == "masterclass" and b.trust_id is None]
    assert [b.status for b in sorted(classes, key=lambda b: b.starts_at)] == ["delivered"] * 3 + ["confirmed"]
    for b in classes:
        r = coordinator.get(f"/api/v1/bookings/{b.id}").json
        people = coordinator.get(f"/api/v1/bookings/{b.id}/registrations?page_size=100").json
        assert len({p["trust_id"] for p in people}) == len(people) >= 15
        assert r["registered_count"] == sum(p["status"] in ("registered", "attended", "no_show") for p in people)
        if b.status == "confirmed":
            assert (r["seats_left"], r["waitlisted_count"]) == (0, 3)
        else:
            assert {p["status"] for p in people} >= {"attended"}
    assert all(b.capacity == 30 for b in bookings if b.kind == "masterclass" and b.trust_id)

    # And the API serves them.
    r = coordinator.get("/api/v1/bookings?status=delivered&page_size=5")
    assert r.status_code == 200 and len(r.json) == 5


def test_seed_demo_twice_adds_nothing_the_second_time(app, db, fresh_url):
    """`flask --app wsgi seed-demo` run twice on one database: the second run duplicates nothing."""
    import subprocess
    import sys

    from sqlalchemy import create_engine, func

    from api.accounts.models import Partner
    from api.bookings.models import Booking, Registration
    from api.outcomes.models import Outcome
    from api.speakers.models import Speaker
    from api.topics.models import Topic
    from api.feedback.models import SurveyResponse
    from api.trusts.models import Contact, Interaction, Trust
    from tests.conftest import ROOT, migrate

    migrate(fresh_url)
    env = {**__import__("os").environ, "DATABASE_URL": fresh_url, "BOARDROOM_ENV": "testing"}
    engine = create_engine(fresh_url)

    def counts() -> dict:
        with engine.connect() as conn:
            return {model.__name__: conn.scalar(select(func.count()).select_from(model))
                    for model in (Trust, Contact, Speaker, Booking, Outcome, Interaction, Topic, Partner,
                                  SurveyResponse, Registration)}

    try:
        for _ in range(2):
            run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stderr
            if _ == 0:
                first = counts()
                assert first["Speaker"] == 10 and first["Trust"] >= 30 and first["Booking"] >= 60
                assert first["SurveyResponse"] >= 12
        assert counts() == first
        assert run.stdout.strip().splitlines()[-1] == ("seeded 0 trusts, 0 contacts, 0 speakers, 0 bookings, 0 masterclasses, "
                                                       "0 survey answers")
    finally:
        engine.dispose()
