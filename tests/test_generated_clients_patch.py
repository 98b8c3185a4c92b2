"""Generated clients PATCH one field and change only that field (issue 12; SPEC, Conventions).

Both clients are generated from the committed ``openapi/openapi.json``: Python with openapi-python-client
(driven in-process through httpx's WSGI transport, inside the test's rolled-back transaction) and
TypeScript with openapi-typescript (default options), whose types a small usage file must satisfy under
``tsc --noEmit --strict``. A PATCH schema that declared a default made the Python client send that field
on every PATCH and made the TypeScript type require it.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.generated_client import generated_python_client

PACKAGE = "boardroom_patch_client"
DOCUMENT = ROOT / "openapi" / "openapi.json"
JS_DIR = ROOT / "tests" / "js"

# One field per patchable resource (every PATCH in the document), chosen away from any declared default.
ONE_FIELD = {
    "/api/v1/trusts/{trust_id}": {"notes": "Chair prefers mornings."},
    "/api/v1/contacts/{contact_id}": {"phone": "+44 113 000 0000"},
    "/api/v1/topics/{topic_id}": {"description": "Rewritten description."},
    "/api/v1/speakers/{speaker_id}": {"bio": "Chief Clinical Information Officer."},
    "/api/v1/partners/{partner_id}": {"name": "NHS Providers (renamed)"},
    "/api/v1/bookings/{booking_id}": {"brief": "Focus on data."},
    "/api/v1/bookings/{booking_id}/outcome": {"summary": "Revised summary."},
    "/api/v1/next-steps/{step_id}": {"owner": "Chief Executive"},
    "/api/v1/webhooks/{webhook_id}": {"description": "CRM sync"},
    "/api/v1/interactions/{interaction_id}": {"summary": "Spoke to the chair again."},
    "/api/v1/registrations/{registration_id}": {"status": "cancelled"},
    "/api/v1/change-requests/{change_request_id}": {"response": "Looking into it."},
}
ENUM_FIELDS = {"/api/v1/registrations/{registration_id}"}


def _patch_operations() -> dict[str, dict]:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return {path: item["patch"] for path, item in document["paths"].items() if "patch" in item}


def test_every_patchable_resource_is_covered():
    assert set(_patch_operations()) == set(ONE_FIELD)


@pytest.fixture
def resources(coordinator, other_partner, seeded_topics):
    """One of each patchable resource, with non-default values wherever the create schema has a default.

    Returns {PATCH path: (path parameters, URL to GET it)}."""
    c = coordinator

    def ok(response, status=201):
        assert response.status_code == status, response.get_data(as_text=True)
        return response.json

    trust = ok(c.post("/api/v1/trusts", json={"name": "Leeds Teaching Hospitals", "ods_code": "RR8",
                                              "region": "north_east_and_yorkshire", "trust_type": "acute",
                                              "timezone": "Europe/Dublin", "notes": "Internal."}))
    contact = ok(c.post(f"/api/v1/trusts/{trust['id']}/contacts", json={"name": "Ceri Jones", "role": "Chair"}))
    topic = ok(c.post("/api/v1/topics", json={"slug": "board-risk", "name": "Board risk"}))
    speaker = ok(c.post("/api/v1/speakers", json={"name": "Dr Amara Okafor", "timezone": "Australia/Sydney",
                                                  "topics": ["data"], "active": False}))
    partner = ok(c.post("/api/v1/partners", json={"name": "NHS Providers", "slug": "nhsp-gen"}))
    booking = ok(c.post("/api/v1/bookings", json={
        "trust_id": trust["id"], "kind": "follow_up", "format": "in_person", "location": "Leeds",
        "starts_at": "2025-03-05T10:00:00Z", "status": "delivered", "topics": ["data"],
        "attendee_ids": [contact["id"]], "notes": "Internal."}))
    outcome = ok(c.put(f"/api/v1/bookings/{booking['id']}/outcome", json={
        "summary": "s", "attendance": 12, "themes": ["data"], "digital_definitions": ["Services"],
        "next_steps": [{"description": "Digital item on every agenda", "done": True}],
        "confidence_before": 2, "confidence_after": 4, "feedback_score": 9}), 200)
    hook = ok(c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["booking.created"],
                                               "active": False}))
    note = ok(c.post(f"/api/v1/trusts/{trust['id']}/interactions", json={
        "kind": "interview", "occurred_at": "2025-03-01T10:00:00Z", "summary": "Spoke to the chair.",
        "contact_ids": [contact["id"]], "booking_id": booking["id"]}))
    asked = ok(other_partner.post("/api/v1/bookings", json={"trust_id": trust["id"],
                                                            "starts_at": "2199-03-05T10:00:00Z"}))
    ok(c.patch(f"/api/v1/bookings/{asked['id']}", json={"status": "confirmed"}, etag="*"), 200)
    change = ok(other_partner.post(f"/api/v1/bookings/{asked['id']}/change-requests",
                                   json={"video_url": "https://meet.example.org/b", "message": "New link"}))
    step = outcome["next_steps"][0]
    course = ok(c.post("/api/v1/bookings", json={"kind": "masterclass", "starts_at": "2025-04-05T10:00:00Z",
                                                 "status": "confirmed", "capacity": 5}))
    place = ok(c.post(f"/api/v1/bookings/{course['id']}/registrations", json={"contact_id": contact["id"]}))
    return {
        "/api/v1/registrations/{registration_id}": ({"registration_id": place["id"]},
                                                    f"/api/v1/registrations/{place['id']}"),
        "/api/v1/change-requests/{change_request_id}": ({"change_request_id": change["id"]},
                                                        f"/api/v1/change-requests/{change['id']}"),
        "/api/v1/trusts/{trust_id}": ({"trust_id": trust["id"]}, f"/api/v1/trusts/{trust['id']}"),
        "/api/v1/contacts/{contact_id}": ({"contact_id": contact["id"]}, f"/api/v1/contacts/{contact['id']}"),
        "/api/v1/topics/{topic_id}": ({"topic_id": topic["id"]}, f"/api/v1/topics/{topic['id']}"),
        "/api/v1/speakers/{speaker_id}": ({"speaker_id": speaker["id"]}, f"/api/v1/speakers/{speaker['id']}"),
        "/api/v1/partners/{partner_id}": ({"partner_id": partner["id"]}, f"/api/v1/partners/{partner['id']}"),
        "/api/v1/bookings/{booking_id}": ({"booking_id": booking["id"]}, f"/api/v1/bookings/{booking['id']}"),
        "/api/v1/bookings/{booking_id}/outcome": ({"booking_id": booking["id"]},
                                                  f"/api/v1/bookings/{booking['id']}/outcome"),
        "/api/v1/next-steps/{step_id}": ({"step_id": step["id"]}, f"/api/v1/next-steps/{step['id']}"),
        "/api/v1/webhooks/{webhook_id}": ({"webhook_id": hook["id"]}, f"/api/v1/webhooks/{hook['id']}"),
        "/api/v1/interactions/{interaction_id}": ({"interaction_id": note["id"]},
                                                  f"/api/v1/interactions/{note['id']}"),
    }


# --- Python: openapi-python-client ---------------------------------------------------------------

@pytest.fixture(scope="module")
def python_client(tmp_path_factory):
    with generated_python_client(DOCUMENT, tmp_path_factory.mktemp("patch_client"), PACKAGE) as (package, _):
        yield package


def _bare(representation: dict, field: str) -> dict:
    return {k: v for k, v in representation.items() if k not in (field, "updated_at")}


def test_python_client_patches_one_field_and_nothing_else_changes(python_client, app, coordinator, make_token,
                                                                 resources):
    models = importlib.import_module(f"{PACKAGE}.models")
    sent: list[bytes] = []
    token = make_token("coordinator", name="generated python client")
    client = importlib.import_module(f"{PACKAGE}.client").AuthenticatedClient(
        base_url="http://boardroom.test", token=token, raise_on_unexpected_status=True)
    client.set_httpx_client(httpx.Client(
        base_url="http://boardroom.test", transport=httpx.WSGITransport(app=app),
        headers={"Authorization": f"Bearer {token}"},
        event_hooks={"request": [lambda request: sent.append(request.read())]}))

    for path, operation in _patch_operations().items():
        params, url = resources[path]
        body = ONE_FIELD[path]
        (field, value), = body.items()
        before = coordinator.get(url)
        assert before.status_code == 200, before.json
        model_name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        model_class = getattr(models, model_name)
        # As a caller builds it (the model's defaults apply); a body whose one field is an enum (a registration's
        # status) takes the generated Enum, as a caller passes it.
        model = model_class.from_dict(body) if path in ENUM_FIELDS else model_class(**body)
        module = importlib.import_module(f"{PACKAGE}.api.{operation['tags'][0]}.{operation['operationId']}")
        response = module.sync_detailed(**params, client=client, body=model, if_match=before.headers["ETag"])
        assert response.status_code == 200, (path, response.content)
        assert json.loads(sent[-1]) == body, f"{path}: the generated client sent more than the one field"
        after = coordinator.get(url)
        assert after.json[field] == value, path
        assert _bare(after.json, field) == _bare(before.json, field), f"{path}: more than {field} changed"
        assert response.headers["ETag"] == after.headers["ETag"], path


# --- TypeScript: openapi-typescript + tsc --------------------------------------------------------

def _js_tools() -> tuple[Path, Path]:
    """openapi-typescript and tsc from tests/js (installed with `npm ci` if needed). Without Node.js or
    npm this fails under CI=true and skips, loudly, elsewhere."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "Node.js and npm are needed to type-check the TypeScript client (tests/js)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message + ": SKIPPED, not checked")
    bin_dir = JS_DIR / "node_modules" / ".bin"
    if not (bin_dir / "tsc").exists() or not (bin_dir / "openapi-typescript").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300)
    return bin_dir / "openapi-typescript", bin_dir / "tsc"


USAGE_HEAD = """\
// Generated by tests/test_generated_clients_patch.py: one-field PATCH bodies and ETag reads against
// the types openapi-typescript generates (default options) from openapi/openapi.json.
import type { paths } from "./schema";

type JsonBody<Op> = Op extends { requestBody: { content: { "application/json": infer B } } } ? B : never;
type OkHeaders<Op> = Op extends { responses: { 200: { headers: infer H } } } ? H : never;
"""


def _tsc(tsc: Path, directory: Path, file: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(tsc), "--noEmit", "--strict", "--target", "es2022", "--module", "esnext",
         "--moduleResolution", "bundler", "--skipLibCheck", "false", file],
        cwd=directory, capture_output=True, text=True, timeout=300)


def test_typescript_types_take_one_field_patches_and_read_etags(tmp_path):
    generator, tsc = _js_tools()
    result = subprocess.run([str(generator), str(DOCUMENT), "-o", str(tmp_path / "schema.d.ts")],
                            cwd=JS_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    lines = [USAGE_HEAD]
    for index, path in enumerate(_patch_operations()):
        lines.append(f'export const patch{index}: JsonBody<paths["{path}"]["patch"]> = {json.dumps(ONE_FIELD[path])};')
        lines.append(f'export const etag{index} = (h: OkHeaders<paths["{path}"]["patch"]>): string => h.ETag;')
        lines.append(f'export const read{index} = (h: OkHeaders<paths["{path}"]["get"]>): string => h.ETag;')
    (tmp_path / "usage.ts").write_text("\n".join(lines) + "\n", encoding="utf-8")
    checked = _tsc(tsc, tmp_path, "usage.ts")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The check can fail: a wrong type in a one-field body is a compile error.
    (tmp_path / "wrong.ts").write_text(
        USAGE_HEAD + 'export const bad: JsonBody<paths["/api/v1/bookings/{booking_id}"]["patch"]> = {"brief": 1};\n',
        encoding="utf-8")
    assert _tsc(tsc, tmp_path, "wrong.ts").returncode != 0
