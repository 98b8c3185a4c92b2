"""The topic catalogue."""

from __future__ import annotations

from tests.conftest import problem


def test_seeded_catalogue_is_readable_by_every_role(seeded_topics, coordinator, viewer, partner):
    slugs = {t["slug"] for t in coordinator.get("/api/v1/topics?page_size=100").json}
    assert {"user-centred-design", "cyber-security", "data"} <= slugs or len(slugs) >= 9
    for who in (viewer, partner):
        r = who.get("/api/v1/topics?page_size=100")
        assert r.status_code == 200 and {t["slug"] for t in r.json} == slugs


def test_create_update_and_unique_slug(coordinator, viewer, partner):
    body = {"slug": "digital-inclusion", "name": "Digital inclusion"}
    r = coordinator.post("/api/v1/topics", json=body)
    assert r.status_code == 201 and r.json["slug"] == "digital-inclusion"
    assert coordinator.post("/api/v1/topics", json=body).status_code == 409
    bad = coordinator.post("/api/v1/topics", json={"slug": "Digital Inclusion", "name": "x"})
    assert bad.status_code == 422 and "slug" in problem(bad)["errors"]
    for who in (viewer, partner):
        assert who.post("/api/v1/topics", json={"slug": "x", "name": "x"}).status_code == 403
    url, etag = r.headers["Location"], r.headers["ETag"]
    ok = coordinator.patch(url, json={"description": "Reaching patients offline too."}, etag=etag)
    assert ok.status_code == 200 and ok.json["description"] == "Reaching patients offline too."
    assert partner.get(url).json["description"] == "Reaching patients offline too."
