"""The dashboard page without a browser: served offline with its assets, self-only CSP, not rate-limited.
(tests/browser drives it in Chromium.)"""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_dashboard_and_its_assets_are_served_by_the_app(client):
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    html = page.get_data(as_text=True)
    assets = [a for a in re.findall(r'(?:src|href)="([^"]+)"', html) if a != "data:,"]  # data:, = no favicon
    assert "/dashboard/assets/vendor/chartjs/chart.umd.min.js" in assets
    assert not [a for a in assets if "://" in a or a.startswith("//")]  # nothing from the internet
    assert "<script>" not in html and not re.search(r"\son[a-z]+=", html)  # no inline code: CSP would block it
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200, asset
        assert "RateLimit" not in r.headers
    assert "RateLimit" not in page.headers


def test_the_vendored_chart_library_keeps_its_licence_and_version():
    vendor = ROOT / "api" / "dashboard" / "static" / "vendor" / "chartjs"
    assert "MIT License" in (vendor / "LICENSE.md").read_text()
    version = (vendor / "VERSION").read_text().split()[1]
    assert f"Chart.js v{version}" in (vendor / "chart.umd.min.js").read_text()[:200]
