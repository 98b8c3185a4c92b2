"""Masterclass fixtures: trusts made through the API, board members, classes and registrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

SOON = (datetime.now(UTC) + timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def trusts(coordinator):
    def _make(n: int, region: str = "london") -> list[dict]:
        out = []
        for _ in range(n):
            code = f"M{len(_make.made):03d}"
            _make.made.append(code)
            out.append(_ok(coordinator.post("/api/v1/trusts", json={
                "name": f"Trust {code}", "ods_code": code, "region": region}), 201))
        return out

    _make.made = []
    return _make


def _member(coordinator, trust: dict, n: int) -> dict:
    return _ok(coordinator.post(f"/api/v1/trusts/{trust['id']}/contacts", json={
        "name": f"Member {n}", "role": "Non-executive Director", "email": f"member{n}@{trust['ods_code'].lower()}.nhs.uk"}),
        201)


def _class(client, capacity=20, starts_at=SOON, **kw) -> dict:
    return _ok(client.post("/api/v1/bookings", json={
        "kind": "masterclass", "starts_at": iso(starts_at), "capacity": capacity,
        "title": "Masterclass: user-centred design for NHS leaders", **kw}), 201)


def _register(client, booking_id: str, body: dict):
    return client.post(f"/api/v1/bookings/{booking_id}/registrations", json=body)
