"""One POST to a pinned address, against real servers on the loopback interface."""

import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.webhooks.ssrf import ResolvedTarget
from api.webhooks.transport import EXCERPT_BYTES, post

# Not resolvable anywhere (RFC 2606 .test): a delivery that reaches the server proves the
# transport connected to the pinned address instead of looking the name up.
HOOK_HOST = "hooks.example.test"
BODY = b'{"type":"booking.created","data":{"id":7}}'
HEADERS = {
    "webhook-id": "msg_1",
    "webhook-timestamp": "1700000000",
    "webhook-signature": "v1,abc=",
    "content-type": "application/json",
    "user-agent": "Boardroom-Webhooks/1",
}


class Receiver(ThreadingHTTPServer):
    """Records every request; how it answers is set per test through ``respond``."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address=("127.0.0.1", 0), family=socket.AF_INET):
        self.address_family = family
        super().__init__(address, _RecordingHandler)
        self.requests = []
        # Set at teardown, so handlers stalled on purpose can finish.
        self.release = threading.Event()
        self.respond = lambda handler: handler.reply(200, b"thanks")

    @property
    def port(self):
        return self.server_address[1]


class _RecordingHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(
            {
                "path": self.path,
                "headers": self.headers,
                "body": self.rfile.read(length),
            }
        )
        self.server.respond(self)

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def _stop(server):
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver():
    server = _serve(Receiver())
    yield server
    _stop(server)


def _target(port, *, host=HOOK_HOST, scheme="http", path="/in?src=boardroom", ip="127.0.0.1"):
    return ResolvedTarget(scheme=scheme, host=host, port=port, path_and_query=path, ip=ip)


def test_posts_the_body_and_headers_to_the_pinned_address(receiver):
    result = post(_target(receiver.port), HEADERS, BODY)

    assert result.status_code == 200
    assert result.ok
    assert result.error is None
    assert result.response_excerpt == "thanks"
    assert result.duration_ms >= 0
    [request] = receiver.requests
    assert request["path"] == "/in?src=boardroom"
    assert request["body"] == BODY
    assert request["headers"]["Host"] == f"{HOOK_HOST}:{receiver.port}"
    assert request["headers"]["Content-Length"] == str(len(BODY))
    for name, value in HEADERS.items():
        assert request["headers"][name] == value


def test_caller_cannot_override_host_or_length(receiver):
    sneaky = {**HEADERS, "Host": "internal.example", "Content-Length": "1"}

    result = post(_target(receiver.port), sneaky, BODY)

    assert result.status_code == 200
    [request] = receiver.requests
    assert request["headers"].get_all("Host") == [f"{HOOK_HOST}:{receiver.port}"]
    assert request["body"] == BODY


def test_non_2xx_is_a_result_not_an_error(receiver):
    receiver.respond = lambda handler: handler.reply(503, b"try later")

    result = post(_target(receiver.port), HEADERS, BODY)

    assert (result.status_code, result.error, result.response_excerpt) == (
        503,
        None,
        "try later",
    )
    assert not result.ok


def test_redirects_are_not_followed(receiver):
    elsewhere = _serve(Receiver())
    try:
        receiver.respond = lambda handler: handler.reply(
            307, headers=[("Location", f"http://127.0.0.1:{elsewhere.port}/internal")]
        )

        result = post(_target(receiver.port), HEADERS, BODY)

        assert result.status_code == 307
        assert not result.ok
        assert len(receiver.requests) == 1
        assert elsewhere.requests == []
    finally:
        _stop(elsewhere)


def test_only_an_excerpt_of_a_huge_response_is_read(receiver):
    receiver.respond = lambda handler: handler.reply(200, b"x" * (8 * 1024 * 1024))

    result = post(_target(receiver.port), HEADERS, BODY)

    assert result.status_code == 200
    assert result.response_excerpt == "x" * EXCERPT_BYTES


def test_a_server_that_never_answers_times_out_with_an_error(receiver):
    receiver.respond = lambda handler: handler.server.release.wait(10)

    started = time.monotonic()
    result = post(_target(receiver.port), HEADERS, BODY, timeout=0.3)
    elapsed = time.monotonic() - started

    assert result.status_code is None
    assert result.error == "timed out after 0.3s"
    assert not result.ok
    assert 0.25 <= elapsed < 2
    assert 250 <= result.duration_ms < 2000


def test_the_timeout_bounds_the_whole_attempt_not_each_read(receiver):
    # Headers at once, then a byte every 0.1s: no single read waits long, but all of them
    # together would take minutes.
    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.flush()
        for _ in range(100000):
            if handler.server.release.wait(0.1):
                return
            try:
                handler.wfile.write(b"y")
                handler.wfile.flush()
            except OSError:
                return

    receiver.respond = trickle

    started = time.monotonic()
    result = post(_target(receiver.port), HEADERS, BODY, timeout=0.5)

    assert time.monotonic() - started < 1.5
    assert result.status_code == 200
    assert result.error is None
    assert 0 < len(result.response_excerpt) < 10
    assert set(result.response_excerpt) == {"y"}


def test_connection_refused_is_an_error_string():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]

    result = post(_target(free_port), HEADERS, BODY, timeout=2)

    assert result.status_code is None
    assert result.error == "connection refused"
    assert result.response_excerpt == ""


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_targets_get_a_bracketed_host_header():
    server = _serve(Receiver(("::1", 0), socket.AF_INET6))
    try:
        result = post(_target(server.port, host="::1", ip="::1"), HEADERS, BODY)

        assert result.status_code == 200
        assert server.requests[0]["headers"]["Host"] == f"[::1]:{server.port}"
    finally:
        _stop(server)


# --- TLS: the certificate must match the URL's host, not the pinned address ------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={HOOK_HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOOK_HOST}",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_receiver(certificate):
    cert, key = certificate
    server = Receiver()
    server.sni_names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server.sni_names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _serve(server)
    yield server
    _stop(server)


def _trusting(certificate):
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_https_verifies_the_certificate_against_the_host_name(tls_receiver, certificate):
    result = post(
        _target(tls_receiver.port, scheme="https"),
        HEADERS,
        BODY,
        ssl_context=_trusting(certificate),
    )

    assert result.status_code == 200
    assert result.error is None
    assert tls_receiver.sni_names == [HOOK_HOST]
    assert tls_receiver.requests[0]["headers"]["Host"] == f"{HOOK_HOST}:{tls_receiver.port}"
    assert tls_receiver.requests[0]["body"] == BODY


def test_https_refuses_a_certificate_for_another_host(tls_receiver, certificate):
    result = post(
        _target(tls_receiver.port, scheme="https", host="other.example.test"),
        HEADERS,
        BODY,
        ssl_context=_trusting(certificate),
    )

    assert result.status_code is None
    assert result.error.startswith("TLS certificate verification failed")
    assert "other.example.test" in result.error
    assert tls_receiver.requests == []


def test_https_refuses_a_certificate_the_system_does_not_trust(tls_receiver):
    result = post(_target(tls_receiver.port, scheme="https"), HEADERS, BODY, timeout=2)

    assert result.status_code is None
    assert result.error.startswith("TLS certificate verification failed")
    assert tls_receiver.requests == []
