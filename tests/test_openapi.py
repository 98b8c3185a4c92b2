"""The OpenAPI document: valid 3.1, committed copy current, complete, and honest about auth and errors."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.conftest import ROOT

METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
PUBLIC_PATHS = re.compile(r"^/(healthz|readyz|feeds/.*)$")
# Endpoints outside the API itself (the document, the docs page and its assets).
DOC_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets", "static"}


@pytest.fixture(scope="module")
def document(app):
    with app.test_client() as client:
        r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def test_committed_document_equals_what_the_app_serves(document):
    committed = ROOT / "openapi" / "openapi.json"
    assert committed.exists(), "openapi/openapi.json is missing: run `make openapi`"
    assert json.loads(committed.read_text(encoding="utf-8")) == document, \
        "openapi/openapi.json is stale: run `make openapi`"


def test_document_is_valid_openapi_3_1(document):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_operation_has_summary_description_unique_id_and_errors(document):
    ids = Counter()
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        assert op.get("summary", "").strip(), where
        assert op.get("description", "").strip(), where
        assert re.fullmatch(r"[a-z][a-z0-9_]*", op.get("operationId", "")), where
        ids[op["operationId"]] += 1
        errors = [code for code in op["responses"] if code == "default" or code.startswith(("4", "5"))]
        assert errors, where
        if "requestBody" in op:
            assert {"400", "413", "422"} <= set(op["responses"]), where
    assert [name for name, n in ids.items() if n > 1] == []


def _resolve(document, obj):
    while "$ref" in obj:
        name = obj["$ref"].rsplit("/", 1)[-1]
        obj = document["components"]["responses"][name]
    return obj


def test_error_responses_are_problem_json(document):
    for path, method, op in operations(document):
        for code, response in op["responses"].items():
            if code == "default" or code[0] in "45":
                content = _resolve(document, response).get("content", {})
                assert list(content) == ["application/problem+json"], (method, path, code)
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, code)
    # flask-smorest's own {code, status, message} error schema is gone.
    assert "Error" not in document["components"]["schemas"]
    for name, response in document["components"]["responses"].items():
        for media in response.get("content", {}):
            assert media == "application/problem+json", name


def test_public_operations_declare_no_security_and_the_rest_need_a_bearer(document):
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert "security" not in document  # no global requirement: each operation says
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        if PUBLIC_PATHS.match(path):
            assert op.get("security") == [], where
        else:
            assert op.get("security") == [{"bearerAuth": []}], where
            assert {"401", "403"} <= set(op["responses"]), where


def test_every_route_is_documented_and_declares_access(app, document):
    """Deny by default, checked statically: each endpoint/method has an access rule and is documented."""
    from api import PUBLIC_ENDPOINTS
    from api.web import PUBLIC

    undeclared, undocumented, mismatched = [], [], []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint in PUBLIC_ENDPOINTS:
                continue
            view_class = getattr(view, "view_class", None)
            handler = getattr(view_class, method.lower(), None) if view_class else view
            access = getattr(handler, "_access", None)
            if not access:
                undeclared.append(f"{method} {rule.rule}")
                continue
            op = document["paths"].get(path, {}).get(method.lower())
            if op is None:
                undocumented.append(f"{method} {path}")
            elif (access == (PUBLIC,)) != (op.get("security") == []):
                mismatched.append(f"{method} {path}")
    assert undeclared == []
    assert undocumented == []
    assert mismatched == []
    assert PUBLIC_ENDPOINTS >= DOC_ENDPOINTS - {"static"}


def test_a_view_without_an_access_rule_is_refused(tmp_path):
    import subprocess
    import sys

    code = """
import json, sys
from api import create_app
app = create_app({"DATABASE_URL": sys.argv[1]})
app.add_url_rule("/forgotten", view_func=lambda: "secret", methods=["GET", "POST"])
c = app.test_client()
print(json.dumps([[r.status_code, r.content_type, r.get_data(as_text=True)]
                  for r in (c.get("/forgotten"), c.post("/forgotten", headers={"Authorization": "Bearer x"}))]))
"""
    out = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path}/deny.sqlite3"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for status, content_type, body in json.loads(out.strip().splitlines()[-1]):
        assert status == 403 and content_type.startswith("application/problem+json")
        assert "secret" not in body


def test_docs_page_works_offline(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r'url:\s*"([^"]+)"', html)
    assert urls, html
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.content_length or r.get_data()
    assert "http://" not in html and "https://" not in html
