"""Creating a booking costs a fixed, small number of SQL statements (issue 11's goal: at most 8 with the
transaction's own), and the trust rule still answers 409 with the booking it hits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.bookings.conftest import iso, statements_of
from tests.conftest import problem

def test_a_new_booking_is_seven_or_eight_statements_however_busy_its_trust(coordinator, engine, trust, book):
    start = datetime(2031, 3, 3, 10, tzinfo=timezone.utc)
    for day in range(1, 30):
        assert book(trust, iso(start + timedelta(days=day))).status_code == 201
    r, queries = statements_of(engine, lambda: book(trust, iso(start)))
    assert r.status_code == 201, r.get_data(as_text=True)
    # token; the trust, locked, with (SQLite) whether any live booking of it overlaps; (PostgreSQL) that question
    # after the lock, in its own statement; the booking; its audit entry; its booking.created event; its stored
    # renderings; the counters (report month and data state) in one upsert. Production adds BEGIN IMMEDIATE on
    # SQLite: 8 in all on either database.
    assert len(queries) == (7 if engine.dialect.name == "sqlite" else 8), queries
    assert sum("derived_counters" in q for q in queries) == 1


def test_the_trust_rule_still_names_the_booking_it_hits(coordinator, trust, book):
    start = datetime(2031, 4, 7, 10, tzinfo=timezone.utc)
    first = book(trust, iso(start)).json
    clash = book(trust, iso(start + timedelta(hours=1)))
    assert clash.status_code == 409
    body = problem(clash)
    assert [(c["kind"], c["booking_id"]) for c in body["conflicts"]] == [("trust_overlap", first["id"])]


def test_a_masterclass_of_the_trust_is_outside_the_trust_rule_both_ways(coordinator, trust, book):
    start = datetime(2031, 5, 5, 10, tzinfo=timezone.utc)
    klass = book(trust, iso(start), kind="masterclass", capacity=20)
    assert klass.status_code == 201, klass.get_data(as_text=True)
    assert book(trust, iso(start + timedelta(hours=1))).status_code == 201
    assert book(trust, iso(start + timedelta(hours=2)), kind="masterclass", capacity=20).status_code == 201
