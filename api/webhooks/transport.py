"""Send one webhook POST to an address pinned by ``ssrf.resolve_for_send``.

The connection goes to ``target.ip`` and nowhere else: no DNS lookup happens here, so the
address that was checked is the address that is reached. The Host header and TLS (SNI and
certificate verification) still use the URL's host name. Redirects are never followed, and
failures come back as a result rather than an exception, so the worker can record them.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from api.webhooks.ssrf import ResolvedTarget

EXCERPT_BYTES = 1024
# Headers the transport owns: Host must match the pinned target, the length must match the body.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt produced; ``status_code`` is None when no response arrived."""

    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: ResolvedTarget, deadline: float) -> None:
        super().__init__(target.host, target.port)
        self._pinned_ip = target.ip
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = self.pinned_socket = _connect(self._pinned_ip, self.port, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: ResolvedTarget, deadline: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, context=context)
        self._pinned_ip = target.ip
        self._deadline = deadline
        self._tls_context = context

    def connect(self) -> None:
        sock = _connect(self._pinned_ip, self.port, self._deadline)
        try:
            sock.settimeout(_remaining(self._deadline))
            # server_hostname is the URL's host: it is sent as SNI and the certificate must
            # match it, whatever address the socket reached.
            self.sock = self.pinned_socket = self._tls_context.wrap_socket(
                sock, server_hostname=self.host
            )
        except BaseException:
            sock.close()
            raise


def post(
    target: ResolvedTarget,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timeout: float = 10.0,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryResult:
    """POST ``body`` to ``target`` and report what happened; never raises for network errors.

    ``timeout`` bounds the whole attempt (connect, TLS, send, response), not each read.
    ``ssl_context`` defaults to the system trust store with hostname checking; tests pass
    one that trusts their own certificate.
    """
    started = time.monotonic()
    deadline = started + timeout
    status: int | None = None
    excerpt = b""
    error: str | None = None
    response: http.client.HTTPResponse | None = None
    conn = _connection(target, deadline, ssl_context)
    try:
        conn.connect()
        conn.sock.settimeout(_remaining(deadline))
        conn.request(
            "POST",
            target.path_and_query,
            body=body,
            headers={k: v for k, v in headers.items() if k.lower() not in _RESERVED_HEADERS},
        )
        conn.sock.settimeout(_remaining(deadline))
        response = conn.getresponse()
        status = response.status
        # http.client may already have handed the socket to the response (conn.sock is None
        # then), so the deadline is applied through the connection's own reference.
        excerpt = _read_excerpt(conn.pinned_socket, response, deadline)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded result
        error = _describe(exc, timeout)
    finally:
        if response is not None:
            response.close()
        conn.close()
    return DeliveryResult(
        status_code=status,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=error,
        response_excerpt=excerpt.decode("utf-8", errors="replace"),
    )


def _connection(
    target: ResolvedTarget, deadline: float, ssl_context: ssl.SSLContext | None
) -> _PinnedHTTPConnection | _PinnedHTTPSConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, deadline, ssl_context or _default_tls_context())
    if target.scheme == "http":
        return _PinnedHTTPConnection(target, deadline)
    raise ValueError(f"unsupported scheme {target.scheme!r}")


@lru_cache(maxsize=1)
def _default_tls_context() -> ssl.SSLContext:
    # Loading the trust store is slow; one context serves every delivery (it is thread-safe).
    return ssl.create_default_context()


def _connect(ip: str, port: int, deadline: float) -> socket.socket:
    # Build the socket from the literal address: socket.create_connection would go through
    # getaddrinfo, and nothing in this module may look a name up.
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(_remaining(deadline))
        sock.connect((ip, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def _remaining(deadline: float) -> float:
    """The time left before ``deadline``; each socket operation gets only that much."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("deadline passed")
    return remaining


def _read_excerpt(
    sock: socket.socket, response: http.client.HTTPResponse, deadline: float
) -> bytes:
    """Read at most EXCERPT_BYTES of the body, stopping early at the deadline or an error.

    Nothing beyond the excerpt is read, so a huge or endless body costs nothing, and read1
    returns whatever has arrived, so a server trickling bytes cannot outlast the deadline.
    Once the status has arrived the receiver has answered: a broken body only shortens the
    excerpt, it does not turn the attempt into an error.
    """
    excerpt = b""
    try:
        while len(excerpt) < EXCERPT_BYTES:
            sock.settimeout(_remaining(deadline))
            chunk = response.read1(EXCERPT_BYTES - len(excerpt))
            if not chunk:
                break
            excerpt += chunk
    except (OSError, http.client.HTTPException):
        pass
    return excerpt


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return f"timed out after {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP response: {type(exc).__name__} {exc}".rstrip()
    if isinstance(exc, OSError):
        return f"connection error: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"
