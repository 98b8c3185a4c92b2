"""A real browser for the pages people use without an API client (the survey form, the dashboard).

Playwright (from PyPI) drives Debian's Chromium at /usr/bin/chromium through ``executable_path``: never a
browser Playwright downloads. Without Chromium a laptop run skips loudly; under CI=true the tests fail
(``.ci/run`` installs Chromium from Debian's packages). Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, _database_url, _free_port, migrate, wait_healthy

CHROMIUM = os.environ.get("BOARDROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"


def _missing(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}: browser tests may not skip in CI (.ci/run installs chromium)")
    message = f"BROWSER TESTS SKIPPED: {reason} (apt-get install chromium)"
    warnings.warn(message)
    print(f"\n*** {message} ***", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (its own sessionStorage) and page; console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()


@dataclass
class Server:
    url: str
    env: dict

    def token(self, role: str = "coordinator") -> str:
        out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tokens", "create", f"browser {role}",
                              "--role", role], cwd=ROOT, env=self.env, check=True, capture_output=True,
                             text=True).stdout
        return out.strip().splitlines()[-1]

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn (two workers) on a freshly migrated database, with its public address as PUBLIC_BASE_URL, so the
    survey URL the API hands out is the one the browser opens."""
    url = _database_url(tmp_path_factory, suffix="_browser")
    migrate(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "BOARDROOM_ENV": "testing", "PUBLIC_BASE_URL": base,
           "BOARDROOM_RATE_LIMIT": "1000000/minute", "BOARDROOM_ACCESS_LOG": ""}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    wait_healthy(base, process, "server")
    yield Server(url=base, env=env)
    process.terminate()
    process.wait(timeout=20)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
