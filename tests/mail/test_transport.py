"""Transports and settings: .eml files, SMTP outcomes (5xx permanent, the rest retried), bad settings, metrics."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.mail.conftest import messages_of
from tests.mail.test_invitations import parts


def test_the_eml_transport_writes_one_file_per_message_that_a_mail_parser_opens(
        coordinator, confirmed_booking, db, app, tmp_path, parse_all):
    from api.mail import worker
    from api.mail.transport import FileTransport

    booking = confirmed_booking()
    stats = worker.drain(db(), FileTransport(tmp_path / "mail"), app.config["ORGANIZER_EMAIL"])
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert stats.sent == 5 and len(files) == 5
    assert not list((tmp_path / "mail").glob("*.part"))
    listed = {m["id"]: m for m in messages_of(coordinator, booking["id"], kind="request")}
    assert {f.stem for f in files} == set(listed)
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Message-ID"] == listed[path.stem]["message_id"]
        assert message["To"].addresses[0].addr_spec == listed[path.stem]["recipient"]

        class Received:  # the shape parts() reads
            def __init__(self, data):
                self.message = email.message_from_bytes(data, policy=email.policy.default)

        _message, ics, method, _attached = parts(Received(path.read_bytes()))
        assert method == "REQUEST"
        for parser, [event] in parse_all(ics).items():
            assert event["uid"] == f"{booking['id']}@boardroom", parser


def test_smtp_outcomes_connection_refused_is_temporary(smtp_server):
    from api.config import parse_smtp_url
    from api.mail.transport import SmtpTransport

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{port}"), timeout=2).send(
        "a@example.org", "b@example.org", b"Subject: x\r\n\r\nhi\r\n", "x")
    assert not result.ok and not result.permanent and "Connection" in result.error

    smtp_server.refusals = ["452 4.3.1 Insufficient storage", "554 5.7.1 Rejected"]
    transport = SmtpTransport(parse_smtp_url(smtp_server.url), timeout=5)
    temporary = transport.send("a@example.org", "b@example.org", b"Subject: x\r\n\r\nhi\r\n", "x")
    permanent = transport.send("a@example.org", "b@example.org", b"Subject: x\r\n\r\nhi\r\n", "x")
    assert (temporary.ok, temporary.permanent) == (False, False) and "452" in temporary.error
    assert (permanent.ok, permanent.permanent) == (False, True) and "554" in permanent.error
    assert transport.send("a@example.org", "b@example.org", b"Subject: x\r\n\r\nhi\r\n", "x").ok


@pytest.mark.parametrize("url, ok", [
    ("smtp://mail.example.org", True), ("smtp+starttls://user:p%40ss@mail.example.org:587", True),
    ("smtps://mail.example.org:465", True), ("http://mail.example.org", False), ("smtp://", False),
    ("smtp://mail.example.org:99999", False), ("mail.example.org:25", False),
])
def test_smtp_urls(url, ok):
    from api.config import parse_smtp_url

    if ok:
        settings = parse_smtp_url(url)
        assert settings.host == "mail.example.org" and settings.port in (25, 465, 587)
    else:
        with pytest.raises(ValueError):
            parse_smtp_url(url)


def test_starttls_credentials_are_unquoted():
    from api.config import parse_smtp_url

    settings = parse_smtp_url("smtp+starttls://user:p%40ss@mail.example.org:587")
    assert (settings.scheme, settings.username, settings.password) == ("smtp+starttls", "user", "p@ss")


@pytest.mark.parametrize("env, needle", [
    ({"BOARDROOM_SMTP_URL": "http://mail.example.org"}, "BOARDROOM_SMTP_URL must look like"),
    ({"BOARDROOM_REMINDER_DAYS": "two"}, "BOARDROOM_REMINDER_DAYS must be a whole number"),
])
def test_a_bad_mail_setting_stops_the_command_with_one_line(env, needle, tmp_path):
    base = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "BOARDROOM_ENV")}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "deliver", "--once"], cwd=ROOT,
                          env={**base, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], done.stderr


def test_metrics_count_emails_by_outcome(coordinator, confirmed_booking, send_mail, make_token, client):
    confirmed_booking()
    send_mail()
    from tests.conftest import ApiClient

    metrics = ApiClient(client, make_token("metrics"))
    text = metrics.get("/metrics").get_data(as_text=True)
    assert 'boardroom_emails{kind="request",status="sent"} 5.0' in text
    assert 'boardroom_emails{kind="reminder",status="pending"} 5.0' in text


def test_messages_are_for_coordinators_only(coordinator, viewer, partner, confirmed_booking):
    from tests.conftest import problem

    booking = confirmed_booking()
    url = f"/api/v1/bookings/{booking['id']}/messages"
    assert viewer.get(url).status_code == 403 and partner.get(url).status_code == 403
    assert problem(coordinator.get("/api/v1/bookings/00000000-0000-4000-8000-000000000000/messages"))["status"] == 404
    assert problem(coordinator.get(url + "?kind=letter"))["status"] == 422
    page = coordinator.get(url + "?page_size=2")
    assert len(page.json) == 2 and "X-Pagination" in page.headers


CLIENT_SCRIPT = """
import sys
from datetime import datetime, timedelta, timezone
from api import create_app

token = sys.argv[1]
app = create_app()
client = app.test_client()
auth = {"Authorization": f"Bearer {token}"}
trust = client.post("/api/v1/trusts", json={"name": "Mail Test Trust", "ods_code": "MT1", "region": "london",
                                            "trust_type": "acute"}, headers=auth).json
contact = client.post(f"/api/v1/trusts/{trust['id']}/contacts", json={"name": "Ada Jones",
                      "email": "ada@example.nhs.uk"}, headers=auth).json
starts = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0).isoformat()
booking = client.post("/api/v1/bookings", json={"trust_id": trust["id"], "kind": "board_development",
                      "format": "virtual", "status": "confirmed", "starts_at": starts,
                      "attendee_ids": [contact["id"]]}, headers=auth)
assert booking.status_code == 201, booking.get_data(as_text=True)
"""


def test_make_run_flow_writes_eml_files_in_the_instance_folder(tmp_path):
    """As under `make run` (no SMTP set): a confirmed booking, the worker run once, the mail in instance/mail/."""
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "BOARDROOM_SMTP_URL", "DATABASE_URL",
                                                            "BOARDROOM_MAIL_DIR")}
    env.update(BOARDROOM_ENV="development", BOARDROOM_INSTANCE_PATH=str(tmp_path / "instance"))

    def run(*args):
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done

    run("-m", "flask", "--app", "wsgi", "db", "upgrade")
    token = run("-m", "flask", "--app", "wsgi", "tokens", "create", "mail", "--role", "coordinator").stdout.split()[-1]
    run("-c", CLIENT_SCRIPT, token)
    done = run("-m", "flask", "--app", "wsgi", "webhooks", "deliver", "--once")
    assert "email: 1 emails tried (1 sent, 0 not sent)" in done.stdout
    [path] = (tmp_path / "instance" / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "ada@example.nhs.uk"
