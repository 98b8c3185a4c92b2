"""A client generated from our OpenAPI document (openapi-python-client) works unedited against a live server."""

from __future__ import annotations

import importlib
import json

import pytest

from tests.conftest import ROOT
from tests.generated_client import generated_python_client

PACKAGE = "boardroom_generated_client"


@pytest.fixture(scope="module")
def generated(app, tmp_path_factory):
    out = tmp_path_factory.mktemp("client")
    with app.test_client() as client:
        (out / "openapi.json").write_text(json.dumps(client.get("/openapi.json").get_json()), encoding="utf-8")
    with generated_python_client(out / "openapi.json", out, PACKAGE) as (package, output):
        assert "Warning" not in output, output
        yield package


def test_generated_client_drives_trusts_and_speakers(generated, live_server):
    client_mod = importlib.import_module(f"{PACKAGE}.client")
    trusts = {name: importlib.import_module(f"{PACKAGE}.api.trusts.{name}")
              for name in ("create_trust", "list_trusts", "get_trust", "update_trust")}
    speakers = importlib.import_module(f"{PACKAGE}.api.speakers.add_speaker")
    models = importlib.import_module(f"{PACKAGE}.models")

    client = client_mod.AuthenticatedClient(base_url=live_server.url, token=live_server.token("coordinator"),
                                            raise_on_unexpected_status=True)

    created = trusts["create_trust"].sync_detailed(
        client=client, idempotency_key="generated-client-1",
        body=models.Trust(name="Generated Client Trust", ods_code="GC1", region=models.TrustRegion.LONDON))
    assert created.status_code == 201, created.content
    trust = created.parsed
    assert isinstance(trust, models.Trust) and trust.ods_code == "GC1" and trust.id

    listed = trusts["list_trusts"].sync_detailed(client=client, q="GC1", page_size=5)
    assert listed.status_code == 200
    assert [t.id for t in listed.parsed] == [trust.id]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1

    got = trusts["get_trust"].sync_detailed(trust_id=trust.id, client=client)
    assert got.status_code == 200 and got.parsed.name == "Generated Client Trust"
    etag = got.headers["ETag"]

    patched = trusts["update_trust"].sync_detailed(trust_id=trust.id, client=client, if_match=etag,
                                                   body=models.TrustPatch(ics="North Central London ICS"))
    assert patched.status_code == 200 and patched.parsed.ics == "North Central London ICS"
    stale = trusts["update_trust"].sync_detailed(trust_id=trust.id, client=client, if_match=etag,
                                                 body=models.TrustPatch(ics="Too late"))
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem) and stale.parsed.status == 412

    speaker = speakers.sync_detailed(client=client, body=models.Speaker(
        name="Dr Amara Okafor", timezone="Australia/Sydney", email="amara@example.org", trust_id=trust.id))
    assert speaker.status_code == 201, speaker.content
    assert speaker.parsed.timezone == "Australia/Sydney" and speaker.parsed.trust_id == trust.id
