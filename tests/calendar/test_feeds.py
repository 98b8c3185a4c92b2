"""Calendar feeds: subscriptions, the public .ics files, their validators and their cost."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select

from tests.calendar.conftest import NOTES, content_lines, snapshot, utc
from tests.conftest import problem

NOW = utc(2026, 2, 1, 12)


@pytest.fixture
def clock(monkeypatch):
    """The feed's notion of now (the windows move with the day)."""
    state = {"now": NOW}
    monkeypatch.setattr("api.calendar.routes.utcnow", lambda: state["now"])
    return state


@pytest.fixture
def people(create_trust, create_contact, create_speaker, seeded_topics):
    from api.topics.models import Topic

    trust = create_trust(name="Leeds Teaching Hospitals NHS Trust")
    other_trust = create_trust(name="Royal Cornwall Hospitals NHS Trust")
    chair = create_contact(trust, name="Siân Llŷr", email="sian@example.nhs.uk", phone="+44 20 7000 1111")
    amara = create_speaker(name="Dr Amara Okafor", email="amara@example.org", phone="+61 2 9000 0000",
                           timezone="Australia/Sydney")
    owain = create_speaker(name="Owain Price", email="owain@example.org", timezone="Europe/London")
    topic = seeded_topics().scalars(select(Topic).where(Topic.slug == "data")).one()
    return {"trust": snapshot(trust), "other_trust": snapshot(other_trust), "chair": snapshot(chair),
            "amara": snapshot(amara), "owain": snapshot(owain), "topic": snapshot(topic)}


def subscribe(client, **body):
    r = client.post("/api/v1/feeds", json=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json


def feed_path(created: dict) -> str:
    return created["url"].removeprefix("https://boardroom.test")


def uids(data: bytes) -> set[str]:
    return {str(e["UID"]).removesuffix("@boardroom") for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def assert_parsers_agree_with_bookings(parsed: dict, bookings: list) -> None:
    """Each parser reads every booking, with the times the bookings table holds, in UTC."""
    want = {f"{b.id}@boardroom": (b.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  b.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ"), b.sequence) for b in bookings}
    for parser, events in parsed.items():
        if parser.startswith("_"):
            continue
        got = {e["uid"]: (e["start_utc"], e["end_utc"], e["sequence"]) for e in events}
        assert got == want, parser


# --- subscriptions ------------------------------------------------------------------------------

def test_create_feed_returns_secret_url_once_and_stores_it_hashed(coordinator, people, db):
    created = subscribe(coordinator, scope="speaker", speaker_id=people["amara"].id)
    assert set(created) == {"id", "scope", "speaker_id", "trust_id", "contact_id", "partner_id", "url", "webcal_url", "token",
                            "created_at", "updated_at"}
    token = created["token"]
    assert token.startswith("brf_") and len(token) - 4 >= 43  # 32 random bytes, base64url: 256 bits
    assert created["url"] == f"https://boardroom.test/feeds/{token}.ics"
    assert created["webcal_url"] == f"webcal://boardroom.test/feeds/{token}.ics"
    from api.calendar.models import Feed

    stored = db().get(Feed, created["id"])
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    listed = coordinator.get("/api/v1/feeds").json
    assert [f["id"] for f in listed] == [created["id"]]
    assert "token" not in listed[0] and "url" not in listed[0]
    got = coordinator.get(f"/api/v1/feeds/{created['id']}")
    assert got.status_code == 200 and "token" not in got.json and got.headers["ETag"]


def test_url_without_public_base_url_is_the_local_server_never_the_host_header(coordinator, people, app,
                                                                               monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    monkeypatch.setitem(app.config, "FALLBACK_BASE_URL", "http://127.0.0.1:5000")
    r = coordinator.post("/api/v1/feeds", json={"scope": "programme"}, headers={"Host": "evil.example"})
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.json
    assert created["url"].startswith("http://127.0.0.1:5000/feeds/brf_")
    assert created["webcal_url"].startswith("webcal://127.0.0.1:5000/feeds/brf_")


@pytest.mark.parametrize("body, field", [
    ({"scope": "speaker"}, "speaker_id"),
    ({"scope": "trust"}, "trust_id"),
    ({"scope": "programme", "trust_id": "00000000-0000-4000-8000-000000000000"}, "trust_id"),
    ({"scope": "speaker", "speaker_id": "00000000-0000-4000-8000-000000000000"}, "speaker_id"),
    ({"scope": "trust", "trust_id": "00000000-0000-4000-8000-000000000000"}, "trust_id"),
    ({"scope": "speaker", "speaker_id": "not-an-id"}, "speaker_id"),
    ({"scope": "everything"}, "scope"),
    ({"scope": "programme", "token": "mine"}, "token"),
])
def test_invalid_feed_requests_are_422(coordinator, body, field):
    r = coordinator.post("/api/v1/feeds", json=body)
    assert problem(r)["status"] == 422 and field in r.json["errors"]


def test_idempotent_replay_names_the_feed_and_never_stores_the_token(coordinator, people, db):
    headers = {"Idempotency-Key": "feed-1"}
    first = coordinator.post("/api/v1/feeds", json={"scope": "programme"}, headers=headers)
    assert first.status_code == 201
    replay = coordinator.post("/api/v1/feeds", json={"scope": "programme"}, headers=headers)
    assert problem(replay)["status"] == 409 and replay.json["created_id"] == first.json["id"]
    assert first.json["token"] not in replay.get_data(as_text=True)
    from api.idempotency import IdempotencyRecord

    bodies = db().scalars(select(IdempotencyRecord.body)).all()
    assert all(first.json["token"] not in (b or "") for b in bodies)
    assert len(coordinator.get("/api/v1/feeds").json) == 1


def test_who_sees_which_feeds(coordinator, viewer, partner, other_partner, people):
    mine = subscribe(coordinator, scope="programme")
    theirs = subscribe(partner, scope="trust", trust_id=people["trust"].id)
    assert theirs["partner_id"] and mine["partner_id"] is None
    assert {f["id"] for f in coordinator.get("/api/v1/feeds").json} == {mine["id"], theirs["id"]}
    assert {f["id"] for f in viewer.get("/api/v1/feeds").json} == {mine["id"], theirs["id"]}
    assert [f["id"] for f in partner.get("/api/v1/feeds").json] == [theirs["id"]]
    assert other_partner.get("/api/v1/feeds").json == []
    assert problem(other_partner.get(f"/api/v1/feeds/{theirs['id']}"))["status"] == 404
    assert problem(other_partner.delete(f"/api/v1/feeds/{theirs['id']}"))["status"] == 404


def test_viewers_read_but_may_not_create_rotate_or_revoke_feeds(coordinator, viewer, people):
    created = subscribe(coordinator, scope="programme")
    assert problem(viewer.post("/api/v1/feeds", json={"scope": "programme"}))["status"] == 403
    assert problem(viewer.post(f"/api/v1/feeds/{created['id']}/rotate"))["status"] == 403
    assert problem(viewer.delete(f"/api/v1/feeds/{created['id']}"))["status"] == 403
    assert viewer.get(f"/api/v1/feeds/{created['id']}").status_code == 200


def test_revoke_and_rotate_kill_the_old_url_at_once(coordinator, anon, people, clock):
    created = subscribe(coordinator, scope="programme")
    path = feed_path(created)
    assert anon.get(path).status_code == 200
    rotated = coordinator.post(f"/api/v1/feeds/{created['id']}/rotate")
    assert rotated.status_code == 200 and rotated.json["id"] == created["id"]
    assert rotated.json["token"] != created["token"]
    assert problem(anon.get(path))["status"] == 404
    new_path = feed_path(rotated.json)
    assert anon.get(new_path).status_code == 200

    item = f"/api/v1/feeds/{created['id']}"
    assert problem(coordinator.delete(item, etag=None))["status"] == 428
    assert problem(coordinator.delete(item, etag='"stale"'))["status"] == 412
    etag = coordinator.get(item).headers["ETag"]
    assert coordinator.delete(item, etag=etag).status_code == 204
    assert problem(anon.get(new_path))["status"] == 404
    assert problem(coordinator.get(item))["status"] == 404
    assert coordinator.get("/api/v1/feeds").json == []


def test_a_feed_dies_with_the_token_that_created_it(partner, coordinator, anon, people, clock):
    created = subscribe(partner, scope="programme")
    assert anon.get(feed_path(created)).status_code == 200
    token_id = next(t["id"] for t in coordinator.get("/api/v1/tokens").json if t["role"] == "partner")
    assert coordinator.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert problem(anon.get(feed_path(created)))["status"] == 404


def test_unknown_token_is_404_problem(anon):
    for path in ("/feeds/brf_nothing.ics", "/feeds/" + "x" * 300 + ".ics"):
        assert problem(anon.get(path))["status"] == 404


# --- what a feed holds --------------------------------------------------------------------------

def test_speaker_feed_holds_only_their_sessions_with_no_contact_details(
        coordinator, anon, people, create_booking, clock, parse_all):
    amara, owain = people["amara"], people["owain"]
    with_amara = create_booking(people["trust"], speakers=[(amara, "facilitator")], attendees=[people["chair"]],
                                topics=[people["topic"]], starts_at=utc(2026, 3, 3, 22), timezone="Australia/Sydney")
    with_both = create_booking(people["other_trust"], speakers=[(owain, "facilitator"), (amara, "guest")],
                               starts_at=utc(2026, 4, 4, 14))
    without = create_booking(people["trust"], speakers=[(owain, "guest")], starts_at=utc(2026, 5, 1, 9))
    created = subscribe(coordinator, scope="speaker", speaker_id=amara.id)
    r = anon.get(feed_path(created))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert r.headers["Cache-Control"] == "private, max-age=300"
    assert r.headers["ETag"].startswith('"') and r.headers["Last-Modified"].endswith("GMT")
    lines = content_lines(r.data)
    assert lines[:9] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Boardroom//Boardroom API//EN",
                         "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Boardroom – Dr Amara Okafor",
                         "X-WR-TIMEZONE:Australia/Sydney", "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
                         "X-PUBLISHED-TTL:PT1H"]
    assert uids(r.data) == {with_amara.id, with_both.id}
    text = r.data.decode()
    for secret in ("mailto:", "@example", "+44", "+61", NOTES, "ATTENDEE", "ORGANIZER", "Siân"):
        assert secret not in text, secret
    assert "Dr Amara Okafor (facilitator)" in text.replace("\r\n ", "")
    assert_parsers_agree_with_bookings(parse_all(r.data), [with_amara, with_both])
    assert without.id not in text


def test_windows_history_and_cancellations(coordinator, anon, people, create_booking, clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEED_HISTORY_DAYS", 30)
    trust = people["trust"]
    recent = create_booking(trust, starts_at=NOW - timedelta(days=29, hours=5))  # ended within 30 days
    old = create_booking(trust, starts_at=NOW - timedelta(days=40))
    future = create_booking(trust, starts_at=NOW + timedelta(days=60))
    cancelled_lately = create_booking(trust, status="cancelled", starts_at=NOW + timedelta(days=10),
                                      cancelled_at=NOW - timedelta(days=29))
    cancelled_long_ago = create_booking(trust, status="cancelled", starts_at=NOW + timedelta(days=20),
                                        cancelled_at=NOW - timedelta(days=31))
    created = subscribe(coordinator, scope="trust", trust_id=trust.id)
    data = anon.get(feed_path(created)).data
    assert uids(data) == {recent.id, future.id, cancelled_lately.id}
    (event,) = [e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
                if str(e["UID"]) == f"{cancelled_lately.id}@boardroom"]
    assert str(event["STATUS"]) == "CANCELLED"
    assert {old.id, cancelled_long_ago.id}.isdisjoint(uids(data))
    assert "X-WR-CALNAME:Boardroom – Leeds Teaching Hospitals NHS Trust" in content_lines(data)


def test_partner_feeds_hold_only_the_partners_bookings(partner, partner_org, anon, people, create_booking,
                                                       clock):
    partner_id = partner_org.id
    ours = create_booking(people["trust"], partner_id=partner_id, speakers=[(people["amara"], "guest")])
    not_ours = create_booking(people["trust"], starts_at=utc(2026, 6, 1, 9), speakers=[(people["amara"], "guest")])
    for body in ({"scope": "programme"}, {"scope": "trust", "trust_id": people["trust"].id},
                 {"scope": "speaker", "speaker_id": people["amara"].id}):
        created = subscribe(partner, **body)
        assert created["partner_id"] == partner_id
        data = anon.get(feed_path(created)).data
        assert uids(data) == {ours.id}, body
        assert not_ours.id not in data.decode()
    assert "X-WR-CALNAME:Boardroom – NHS Providers programme" in content_lines(
        anon.get(feed_path(subscribe(partner, scope="programme"))).data)


def test_programme_feed_across_zones_and_both_dst_changes(coordinator, anon, people, create_booking, clock, parse_all):
    starts = [utc(2026, 3, 28, 10), utc(2026, 3, 30, 9), utc(2026, 3, 29, 0, 30), utc(2026, 10, 24, 9),
              utc(2026, 10, 26, 10), utc(2026, 10, 25, 0, 30)]
    bookings = [create_booking(people["trust"], starts_at=s, speakers=[(people["owain"], "guest")]) for s in starts]
    sydney = [utc(2026, 4, 3, 22), utc(2026, 4, 5, 23), utc(2026, 10, 2, 23), utc(2026, 10, 4, 22)]
    bookings += [create_booking(people["other_trust"], starts_at=s, timezone="Australia/Sydney",
                                speakers=[(people["amara"], "facilitator")]) for s in sydney]
    bookings.append(create_booking(people["other_trust"], status="cancelled", starts_at=utc(2026, 2, 20, 10),
                                   cancelled_at=NOW - timedelta(days=2)))
    for scope in ({"scope": "programme"}, {"scope": "speaker", "speaker_id": people["amara"].id}):
        data = anon.get(feed_path(subscribe(coordinator, **scope))).data
        lines = content_lines(data)
        want = bookings if scope["scope"] == "programme" else bookings[6:10]
        assert_parsers_agree_with_bookings(parse_all(data), want)
        assert lines.count("BEGIN:VTIMEZONE") == (2 if scope["scope"] == "programme" else 1)
        assert "DTSTART;TZID=Australia/Sydney:20260406T090000" in lines
        assert "DTSTART;TZID=Australia/Sydney:20261005T090000" in lines


# --- the scenario a subscriber lives through ----------------------------------------------------

def test_reschedule_and_cancel_show_in_feed_and_invite(coordinator, anon, people, create_booking,
                                                       change_booking, clock, parse_all):
    booking = create_booking(people["trust"], timezone="Australia/Sydney", starts_at=utc(2026, 3, 10, 22),
                             speakers=[(people["amara"], "facilitator")], attendees=[people["chair"]])
    path = feed_path(subscribe(coordinator, scope="speaker", speaker_id=people["amara"].id))
    invite = f"/api/v1/bookings/{booking.id}/invite.ics"

    first = anon.get(path)
    assert_parsers_agree_with_bookings(parse_all(first.data), [booking])
    assert "SEQUENCE:0" in content_lines(first.data)

    # Rescheduled across Sydney's April change: 09:00 AEDT becomes 09:00 AEST.
    moved = change_booking(booking.id, starts_at=utc(2026, 4, 7, 23))
    second = anon.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert_parsers_agree_with_bookings(parse_all(second.data), [moved])
    assert "DTSTART;TZID=Australia/Sydney:20260408T090000" in content_lines(second.data)
    assert "SEQUENCE:1" in content_lines(second.data)
    assert_parsers_agree_with_bookings(parse_all(coordinator.get(invite).data), [moved])

    cancelled = change_booking(booking.id, status="cancelled", cancelled_at=NOW - timedelta(hours=1))
    third = anon.get(path, headers={"If-None-Match": second.headers["ETag"]})
    assert third.status_code == 200
    parsed = parse_all(third.data)
    assert_parsers_agree_with_bookings(parsed, [cancelled])
    assert all(e["status"] == "CANCELLED" and e["sequence"] == 2
               for p, es in parsed.items() if not p.startswith("_") for e in es)
    cancel = coordinator.get(invite)
    lines = content_lines(cancel.data)
    assert "METHOD:CANCEL" in lines and "SEQUENCE:2" in lines and f"UID:{booking.id}@boardroom" in lines
    assert_parsers_agree_with_bookings(parse_all(cancel.data), [cancelled])


# --- validators ---------------------------------------------------------------------------------

def test_304_on_if_none_match_and_if_modified_since(coordinator, anon, people, create_booking, clock):
    create_booking(people["trust"])
    path = feed_path(subscribe(coordinator, scope="programme"))
    first = anon.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    r = anon.get(path, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.data == b"" and r.headers["ETag"] == etag
    assert r.headers["Cache-Control"] == "private, max-age=300"  # (RFC 9110 15.4.5: no Last-Modified needed)
    assert anon.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert anon.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}).status_code == 200
    # If-None-Match decides when both are sent (RFC 9110 13.2.2).
    assert anon.get(path, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}).status_code == 200


def test_etag_changes_with_scope_renames_and_the_day(coordinator, anon, people, create_booking, clock, db, app):
    from api import derived
    from api.bookings.models import Booking, BookingRendering, BookingSpeaker
    from api.speakers.models import Speaker
    from api.topics.models import Topic
    from api.trusts.models import Trust

    amara = people["amara"]
    kept = create_booking(people["trust"], speakers=[(amara, "guest")], topics=[people["topic"]])
    dropped = create_booking(people["other_trust"], starts_at=utc(2026, 12, 10, 10), speakers=[(amara, "guest")])
    path = feed_path(subscribe(coordinator, scope="speaker", speaker_id=amara.id))
    seen = [anon.get(path).headers["ETag"]]

    def etag_now(expect_change: bool = True) -> bytes:
        r = anon.get(path, headers={"If-None-Match": seen[-1]})
        assert r.status_code == (200 if expect_change else 304)
        if expect_change:
            assert r.headers["ETag"] not in seen
            seen.append(r.headers["ETag"])
        return r.data

    etag_now(expect_change=False)

    # A session joins the scope.
    added = create_booking(people["trust"], starts_at=utc(2026, 12, 20, 10), speakers=[(amara, "guest")])
    assert added.id in uids(etag_now())

    # The speaker is taken off a session (the bookings service touches the booking and refreshes it).
    booking = db().get(Booking, dropped.id)
    booking.speakers = [s for s in booking.speakers if s.speaker_id != amara.id]
    booking.touch()
    derived.refresh(db(), booking, app.config)
    db().commit()
    assert db().scalar(select(BookingSpeaker).where(BookingSpeaker.booking_id == dropped.id)) is None
    assert dropped.id not in uids(etag_now())

    # Renames of what the events show: trust, speaker (also the calendar's name), topic.
    db().get(Trust, people["trust"].id).name = "Leeds Teaching Hospitals (renamed)"
    db().commit()
    assert "Trust: Leeds Teaching Hospitals (renamed)" in etag_now().decode().replace("\r\n ", "")
    db().get(Speaker, amara.id).name = "Prof. Amara Okafor"
    db().commit()
    data = etag_now().decode().replace("\r\n ", "")
    assert "X-WR-CALNAME:Boardroom – Prof. Amara Okafor" in data and "Prof. Amara Okafor (guest)" in data
    assert "Dr Amara Okafor" not in data
    db().get(Topic, people["topic"].id).name = "Data and analytics"
    db().commit()
    assert "Topics: Data and analytics" in etag_now().decode().replace("\r\n ", "")
    # The renamed texts were stored again: the next request renders nothing and reads the same.
    assert db().scalar(select(BookingRendering.ical_vevent).where(BookingRendering.booking_id == kept.id)
                       ).count("Data and analytics") == 2
    etag_now(expect_change=False)

    # A new day moves the windows, so the ETag moves with it.
    clock["now"] = NOW + timedelta(days=1)
    etag_now()
    clock["now"] = NOW + timedelta(days=1, hours=5)
    etag_now(expect_change=False)


def test_feed_costs_a_constant_number_of_queries(coordinator, anon, people, create_booking, clock,
                                                 count_queries, db):
    from api.bookings.models import BookingRendering, SpeakerFeedEvent

    path = feed_path(subscribe(coordinator, scope="speaker", speaker_id=people["amara"].id))
    topics, attendees = [people["topic"]], [people["chair"]]
    speakers = [(people["amara"], "guest"), (people["owain"], "facilitator")]

    def add(count: int, refresh: bool) -> None:
        for i in range(count):
            create_booking(people["trust"] if i % 2 else people["other_trust"], speakers=speakers, topics=topics,
                           attendees=attendees, refresh=refresh, starts_at=utc(2026, 3, 1, 10) + timedelta(days=i * 2,
                                                                                                      hours=i % 3),
                           timezone=("Europe/London", "Australia/Sydney", "America/New_York")[i % 3])

    def measure() -> tuple[int, int, int, bytes]:
        with count_queries() as full:
            r = anon.get(path)
        assert r.status_code == 200
        with count_queries() as cached:
            assert anon.get(path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
        with count_queries() as again:
            assert anon.get(path).data == r.data
        return len(full), len(cached), len(again), r.data

    add(3, refresh=False)  # never rendered: the feed renders and stores them
    cold_small, cached_small, warm_small, _ = measure()
    add(12, refresh=False)
    cold_large, cached_large, warm_large, data = measure()
    assert len(uids(data)) == 15
    assert db().scalar(select(BookingRendering.booking_id).where(BookingRendering.ical_vevent.is_(None))) is None
    assert db().scalar(select(SpeakerFeedEvent.booking_id).where(SpeakerFeedEvent.ical_vevent.is_(None))) is None
    assert cached_small == cached_large == 1  # a 304 costs the token lookup, which reads the data state too
    assert warm_small == warm_large == 1  # the body kept under its current ETag (FeedBodies): the token lookup only
    assert cold_small == cold_large  # loading bookings, trusts, topics, speakers, and one store: no N+1


def test_programme_feed_figures_for_the_demo_data(coordinator, anon, clock, db, capsys):
    """Not a timing assertion: prints what the demo programme's feed costs, cold and warm.

    Cold: no stored VEVENT at all (every event rendered, then stored) and an empty VTIMEZONE
    cache; warm: the stored texts joined.
    """
    from sqlalchemy import func, update

    from api.bookings.models import Booking, BookingRendering
    from api.calendar.render import vtimezone_for_years
    from api.demo import seed

    clock["now"] = utc(2026, 11, 26, 12)
    seed(db(), today=clock["now"].date())
    db().execute(update(BookingRendering).values(ical_vevent=None))
    db().commit()
    total = db().scalar(select(func.count(Booking.id)))
    path = feed_path(subscribe(coordinator, scope="programme"))
    vtimezone_for_years.cache_clear()
    timings = []
    for _ in range(4):
        began = time.perf_counter()
        r = anon.get(path)
        timings.append(time.perf_counter() - began)
        assert r.status_code == 200
    began = time.perf_counter()
    assert anon.get(path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    not_modified = time.perf_counter() - began
    shown = r.data.count(b"BEGIN:VEVENT")
    assert 0 < shown <= total
    # Only the bookings the feed shows were rendered and stored; older history stays untouched.
    assert db().scalar(select(func.count()).where(BookingRendering.ical_vevent.is_(None))) == total - shown
    with capsys.disabled():
        print(f"\nprogramme feed, demo data: {r.data.count(b'BEGIN:VEVENT')} events of {total} bookings, "
              f"{len(r.data) / 1024:.0f} KiB: cold {timings[0] * 1000:.1f} ms, "
              f"warm {min(timings[1:]) * 1000:.1f} ms, 304 {not_modified * 1000:.1f} ms")


def test_through_the_bookings_api_feed_and_invite_agree_with_the_json(coordinator, anon, people, clock, parse_all):
    """Bookings written by the API refresh their stored VEVENT; the .ics agree with the JSON booking."""
    amara = people["amara"]
    path = feed_path(subscribe(coordinator, scope="speaker", speaker_id=amara.id))
    created = coordinator.post("/api/v1/bookings", json={
        "trust_id": people["trust"].id, "starts_at": "2026-10-24T10:00:00+01:00", "status": "confirmed",
        "notes": NOTES, "video_url": "https://meet.example/xyz"})
    assert created.status_code == 201, created.json
    booking_url = f"/api/v1/bookings/{created.json['id']}"
    assert coordinator.put(f"{booking_url}/speakers/{amara.id}", json={"role": "facilitator"}).status_code in (200, 201)

    def agree(json_booking: dict, data: bytes) -> None:
        for parser, events in parse_all(data).items():
            if parser.startswith("_"):
                continue
            (event,) = events
            assert (event["uid"], event["start_utc"], event["end_utc"], event["sequence"]) == (
                f"{json_booking['id']}@boardroom", json_booking["starts_at"], json_booking["ends_at"],
                json_booking["sequence"]), parser

    first = anon.get(path)
    agree(coordinator.get(booking_url).json, first.data)
    assert NOTES not in first.data.decode()

    # Rescheduled across the October change; the booking's own ETag is untouched by the calendar text.
    moved = coordinator.patch(booking_url, json={"starts_at": "2026-10-26T10:00:00Z"})
    assert moved.status_code == 200, moved.json
    assert moved.json["sequence"] == 1
    got = coordinator.get(booking_url)
    assert got.headers["ETag"] == moved.headers["ETag"] and got.json == moved.json
    second = anon.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    agree(moved.json, second.data)
    agree(moved.json, coordinator.get(f"{booking_url}/invite.ics").data)

    cancelled = coordinator.patch(booking_url, json={"status": "cancelled", "cancel_reason": "Board moved"})
    assert cancelled.status_code == 200, cancelled.json
    clock["now"] = utc(2026, 11, 27, 9)  # the feed's day: within 30 days of the cancellation
    third = anon.get(path)
    agree(cancelled.json, third.data)
    assert "STATUS:CANCELLED" in content_lines(third.data)
    invite = coordinator.get(f"{booking_url}/invite.ics")
    assert "METHOD:CANCEL" in content_lines(invite.data)
    agree(cancelled.json, invite.data)

    # The speaker taken off: the session leaves the speaker's feed.
    assert coordinator.delete(f"{booking_url}/speakers/{amara.id}").status_code == 204
    fourth = anon.get(path, headers={"If-None-Match": third.headers["ETag"]})
    assert fourth.status_code == 200 and uids(fourth.data) == set()
