"""The registrations list and a class's GET cost the same number of statements whatever the class's size."""

from __future__ import annotations

from tests.bookings.test_list_fast_path import _statements
from tests.registrations.conftest import _class, _member, _ok, _register


def test_registrations_list_and_booking_get_in_constant_statements(coordinator, partner, engine, trusts):
    small, large = _class(coordinator, capacity=3), _class(coordinator, capacity=60)
    (trust,) = trusts(1)
    for n in range(70):
        person = _member(coordinator, trust, n)
        _ok(_register(coordinator, large["id"], {"contact_id": person["id"]}), 201)
        if n < 2:
            _ok(_register(coordinator, small["id"], {"contact_id": person["id"]}), 409)  # overlapping classes
    counted = {}
    for course in (small, large):
        for size in (5, 50):
            path = f"/api/v1/bookings/{course['id']}/registrations?page_size={size}"
            coordinator.get(path)
            r, queries = _statements(engine, lambda: coordinator.get(path))
            assert r.status_code == 200
            counted[(course["id"], size)] = len(queries)
        coordinator.get(f"/api/v1/bookings/{course['id']}")  # renders the document once (stored after a change)
        r, queries = _statements(engine, lambda: coordinator.get(f"/api/v1/bookings/{course['id']}"))
        assert r.status_code == 200
        counted[(course["id"], "get")] = len(queries)
    # token lookup, the class by primary key, the count, the page
    assert {n for key, n in counted.items() if key[1] != "get"} == {4}, counted
    # token lookup, the stored document with its version
    assert {n for key, n in counted.items() if key[1] == "get"} == {2}, counted
    assert _ok(coordinator.get(f"/api/v1/bookings/{large['id']}"))["waitlisted_count"] == 10
    r, queries = _statements(engine, lambda: partner.get(f"/api/v1/bookings/{large['id']}/registrations?page_size=50"))
    assert r.status_code == 200 and r.json == [] and len(queries) == 4
