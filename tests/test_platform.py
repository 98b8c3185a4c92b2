"""Conventions every endpoint shares: problem+json errors, auth answers, lists, ETags."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import problem

TRUST = {"name": "Leeds Teaching Hospitals NHS Trust", "ods_code": "RR8", "region": "north_east_and_yorkshire"}
TRACE_MARKERS = ("Traceback", 'File "', "sqlalchemy", "RuntimeError", "secret-internal-detail")


def no_trace(response) -> None:
    text = response.get_data(as_text=True)
    for marker in TRACE_MARKERS:
        assert marker not in text, text


# --- errors are problem+json ------------------------------------------------------------------------

def test_malformed_json_is_400_problem(coordinator):
    r = coordinator.request("POST", "/api/v1/trusts", data='{"name": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    body = problem(r)
    assert "JSON" in body["detail"]
    no_trace(r)


@pytest.mark.parametrize("authorization, reason", [
    (None, "missing"),
    ("Bearer brt_not-a-real-token", "unknown"),
    ("Basic dXNlcjpwYXNz", "wrong scheme"),
])
def test_missing_or_unknown_token_is_401_with_challenge(anon, authorization, reason):
    headers = {"Authorization": authorization} if authorization else {}
    r = anon.get("/api/v1/trusts", headers=headers)
    assert r.status_code == 401, reason
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    problem(r)


def test_revoked_token_is_401_at_once(coordinator, client, make_token):
    from tests.conftest import ApiClient

    secret = make_token("viewer", name="soon revoked")
    victim = ApiClient(client, secret)
    assert victim.get("/api/v1/trusts").status_code == 200
    token = next(t for t in coordinator.get("/api/v1/tokens").json if t["name"] == "soon revoked")
    assert coordinator.delete(f"/api/v1/tokens/{token['id']}").status_code == 204
    r = victim.get("/api/v1/trusts")
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    problem(r)


def test_role_that_may_not_act_is_403(viewer, partner):
    for who in (viewer, partner):
        r = who.post("/api/v1/trusts", json=TRUST)
        assert r.status_code == 403
        assert problem(r)["type"].endswith("/forbidden")
    assert problem(partner.get("/api/v1/tokens"))["status"] == 403


def test_unknown_path_and_malformed_id_are_404(coordinator, anon):
    for who in (coordinator, anon):
        r = who.get("/api/v1/no-such-thing")
        assert r.status_code == 404
        problem(r)
    r = coordinator.get("/api/v1/trusts/not-a-uuid")
    assert r.status_code == 404
    problem(r)
    r = coordinator.get("/api/v1/trusts/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    problem(r)


def test_wrong_method_is_405_with_allow(coordinator):
    r = coordinator.put("/api/v1/trusts", json=TRUST)
    assert r.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["Allow"].split(",")}
    problem(r)


def test_duplicate_is_409_problem(coordinator):
    assert coordinator.post("/api/v1/trusts", json=TRUST).status_code == 201
    r = coordinator.post("/api/v1/trusts", json={**TRUST, "name": "Copy"})
    assert r.status_code == 409
    problem(r)


def test_if_match_absent_428_stale_412_star_matches(coordinator):
    r = coordinator.post("/api/v1/trusts", json=TRUST)
    url, etag = r.headers["Location"], r.headers["ETag"]
    assert problem(coordinator.patch(url, json={"ics": "A"}, etag=None))["status"] == 428
    assert coordinator.patch(url, json={"ics": "B"}, etag=etag).status_code == 200
    stale = coordinator.patch(url, json={"ics": "C"}, etag=etag)
    assert problem(stale)["status"] == 412
    star = coordinator.patch(url, json={"ics": "D"}, etag="*")
    assert star.status_code == 200 and star.json["ics"] == "D"
    gone = coordinator.delete(url, etag=etag)
    assert gone.status_code == 412


def test_body_over_one_mib_is_413(coordinator):
    big = {**TRUST, "notes": "x" * (1024 * 1024 + 10)}
    r = coordinator.post("/api/v1/trusts", json=big)
    assert r.status_code == 413
    assert "1 MiB" in problem(r)["detail"]
    assert coordinator.get("/api/v1/trusts").json == []


def test_422_lists_errors_by_field(coordinator):
    r = coordinator.post("/api/v1/trusts", json={"ods_code": "??", "region": "atlantis", "surprise": True})
    assert r.status_code == 422
    errors = problem(r)["errors"]
    assert {"name", "ods_code", "region", "surprise"} <= set(errors)
    assert all(isinstance(msgs, list) and all(isinstance(m, str) for m in msgs) for msgs in errors.values())


def test_body_reference_with_malformed_id_is_422(coordinator):
    r = coordinator.post("/api/v1/speakers", json={"name": "X", "timezone": "Europe/London", "trust_id": "nope"})
    assert r.status_code == 422
    assert "trust_id" in problem(r)["errors"]


def test_unexpected_error_is_500_problem_without_trace(coordinator, monkeypatch):
    from api.topics import routes

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret-internal-detail: SELECT * FROM api_tokens")

    monkeypatch.setattr(routes.service, "list_topics", explode)
    r = coordinator.get("/api/v1/topics")
    assert r.status_code == 500
    body = problem(r)
    assert body["type"].endswith("/internal-error")
    no_trace(r)


def test_500_from_a_raising_route_registered_on_a_test_app(tmp_path):
    """A separate app (its own engine, so the shared test session is untouched) with a view that raises."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = """
import json, sys
from api import create_app
from api.web import PUBLIC
app = create_app({"TESTING": False, "DATABASE_URL": sys.argv[1]})
def boom():
    raise ValueError("secret-internal-detail Traceback")
boom._access = (PUBLIC,)
app.add_url_rule("/boom", view_func=boom)
r = app.test_client().get("/boom")
print(json.dumps({"status": r.status_code, "type": r.content_type, "body": r.get_data(as_text=True)}))
"""
    out = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path}/boom.sqlite3"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == 500
    assert result["type"].startswith("application/problem+json")
    assert "secret-internal-detail" not in result["body"] and "Traceback" not in result["body"]
    assert json.loads(result["body"])["status"] == 500


# --- lists -------------------------------------------------------------------------------------------

def _links(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(","):
        url, rel = part.split(";")
        out[rel.strip().removeprefix('rel="').removesuffix('"')] = url.strip().strip("<>")
    return out


def test_pagination_headers_and_links_keep_other_args(coordinator, create_trust):
    for i in range(7):
        create_trust(name=f"Acute {i}", region="london")
    create_trust(name="Elsewhere", region="midlands")
    r = coordinator.get("/api/v1/trusts?region=london&page=2&page_size=3&sort=name")
    assert r.status_code == 200
    assert [t["name"] for t in r.json] == ["Acute 3", "Acute 4", "Acute 5"]
    meta = json.loads(r.headers["X-Pagination"])
    assert meta["total"] == 7 and meta["total_pages"] == 3 and meta["page"] == 2
    links = _links(r.headers["Link"])
    assert set(links) == {"first", "prev", "next", "last"}
    pages = {rel: parse_qs(urlsplit(url).query) for rel, url in links.items()}
    assert {rel: q["page"] for rel, q in pages.items()} == {"first": ["1"], "prev": ["1"], "next": ["3"],
                                                           "last": ["3"]}
    assert all(q["region"] == ["london"] and q["sort"] == ["name"] and q["page_size"] == ["3"]
               for q in pages.values())
    last = coordinator.get(urlsplit(links["last"]).path + "?" + urlsplit(links["last"]).query)
    assert [t["name"] for t in last.json] == ["Acute 6"]
    assert set(_links(last.headers["Link"])) == {"first", "prev", "last"}


def test_page_size_over_100_is_422(coordinator):
    r = coordinator.get("/api/v1/trusts?page_size=101")
    assert r.status_code == 422
    assert "page_size" in problem(r)["errors"]
    assert coordinator.get("/api/v1/trusts?page_size=100").status_code == 200


def test_updated_since_needs_an_offset_and_is_inclusive(coordinator, create_trust):
    from datetime import datetime, timezone

    create_trust(name="Old", updated_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    new = create_trust(name="New")
    since = new.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"
    r = coordinator.get("/api/v1/trusts?updated_since=2025-01-01T00:00:00")
    assert r.status_code == 422
    assert "updated_since" in problem(r)["errors"]
    r = coordinator.get("/api/v1/trusts", query_string={"updated_since": since})
    assert [t["name"] for t in r.json] == ["New"]
    r = coordinator.get("/api/v1/trusts", query_string={"updated_since": "2023-12-31T19:00:00-05:00"})
    assert {t["name"] for t in r.json} == {"Old", "New"}


def test_sort_ascending_descending_and_unknown(coordinator, create_trust):
    for name in ("Beta", "Alpha", "Gamma"):
        create_trust(name=name)
    assert [t["name"] for t in coordinator.get("/api/v1/trusts?sort=name").json] == ["Alpha", "Beta", "Gamma"]
    assert [t["name"] for t in coordinator.get("/api/v1/trusts?sort=-name").json] == ["Gamma", "Beta", "Alpha"]
    r = coordinator.get("/api/v1/trusts?sort=password")
    assert r.status_code == 422 and "sort" in problem(r)["errors"]


# --- ETags -------------------------------------------------------------------------------------------

def test_etag_and_if_none_match_304(coordinator):
    r = coordinator.post("/api/v1/trusts", json=TRUST)
    url = r.headers["Location"]
    got = coordinator.get(url)
    etag = got.headers["ETag"]
    assert etag.startswith('"')
    cached = coordinator.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.get_data() == b"" and cached.headers["ETag"] == etag
    coordinator.patch(url, json={"ics": "Changed"}, etag=etag)
    fresh = coordinator.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.json["ics"] == "Changed" and fresh.headers["ETag"] != etag


def test_unknown_query_parameter_is_422(coordinator):
    r = coordinator.get("/api/v1/trusts?regoin=london")
    assert r.status_code == 422
    assert "regoin" in problem(r)["errors"]
    assert coordinator.get("/api/v1/trusts?region=london&page=1&page_size=5").status_code == 200


def test_feed_tokens_never_reach_the_logs():
    from types import SimpleNamespace

    from gunicorn.config import Config

    from api.logsafe import RedactingLogger, redact_path

    assert redact_path("GET /feeds/brf_s3cret.ics HTTP/1.1") == "GET /feeds/*** HTTP/1.1"
    logger = RedactingLogger(Config())
    req = SimpleNamespace(method="GET", path="/feeds/brf_s3cret.ics", query="", uri="/feeds/brf_s3cret.ics",
                          version=(1, 1), headers=[])
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/feeds/brf_s3cret.ics", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/feeds/brf_s3cret.ics", "QUERY_STRING": ""}
    from datetime import timedelta

    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=3))
    assert "brf_s3cret" not in atoms["r"] and "brf_s3cret" not in atoms["U"]
