"""Guard webhook target URLs against server-side request forgery (SSRF).

Two entry points share one code path:

* ``check_url`` runs when a partner registers a URL and raises ``UnsafeTarget`` (a 422) for
  anything that is not https to a public address.
* ``resolve_for_send`` runs before each delivery: it resolves the host once, checks every
  address, and returns the address the transport must connect to. Connecting to that pinned
  address (instead of letting the HTTP client look the name up again) is what defeats DNS
  rebinding between the check and the connection.

Host spellings are parsed the way browsers and ``inet_aton`` do (WHATWG URL "IPv4 parser"):
``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` are all 127.0.0.1 here too, so no
spelling slips past the address check and then reaches a private address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Iterable[str]]
"""Takes a host name and returns the IP addresses (as text) it resolves to."""

MAX_URL_LENGTH = 2048

LOOPBACK = "loopback"

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Checked in order; the first match names the kind of address in the error message.
# Python's own is_global tables differ between versions (3.11 calls ::7f00:1 and fec0::1
# global), so the ranges we rely on are spelled out here and is_global is only a backstop.
_NON_PUBLIC_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),  # Linux routes 0.0.0.0 to the local host
    (_V4("127.0.0.0/8"), LOOPBACK),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("100.64.0.0/10"), "carrier-grade NAT"),
    (_V4("169.254.0.0/16"), "link-local"),  # includes cloud metadata, 169.254.169.254
    (_V4("192.0.0.0/24"), "reserved"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "reserved"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),  # includes 255.255.255.255
)
_NON_PUBLIC_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), LOOPBACK),
    (_V6("::/8"), "reserved"),  # IPv4-compatible and IPv4-translated forms live here
    # Local-use NAT64: where it leads is site-specific, so it cannot be judged.
    (_V6("64:ff9b:1::/48"), "reserved"),
    (_V6("100::/64"), "reserved"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("2001::/23"), "reserved"),  # includes Teredo and benchmarking
    (_V6("3fff::/20"), "documentation"),
    (_V6("5f00::/16"), "reserved"),
    (_V6("fc00::/7"), "unique-local"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local"),
    (_V6("ff00::/8"), "multicast"),
)
_NAT64_WELL_KNOWN = _V6("64:ff9b::/96")
_IPV6_GLOBAL_UNICAST = _V6("2000::/3")

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_OCT_DIGITS = frozenset("01234567")
_DEC_DIGITS = frozenset("0123456789")
# Everything a URL path or query may already legitimately contain; only other characters
# (non-ASCII, for instance) are percent-encoded before they reach the request line.
_PATH_SAFE = "/?=&;:@!$'()*+,-._~%"


class UnsafeTarget(ValueError):
    """The URL is not an acceptable webhook target; ``str()`` is fit to show the partner."""


class ResolutionFailed(UnsafeTarget):
    """The host name did not resolve, so its addresses could not be checked."""


@dataclass(frozen=True)
class ResolvedTarget:
    """Where one delivery goes: the URL's parts plus the checked address to connect to."""

    scheme: str
    host: str  # the name for the Host header and TLS (SNI, certificate check); no brackets
    port: int
    path_and_query: str
    ip: str  # the pinned address; the transport connects here and nowhere else


@dataclass(frozen=True)
class _ParsedUrl:
    scheme: str
    host: str
    port: int
    path_and_query: str
    literal_ip: IPAddress | None


def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the operating system's resolver (``getaddrinfo``)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_url(url: str, *, allow_loopback: bool, resolver: Resolver = system_resolver) -> None:
    """Raise ``UnsafeTarget`` unless ``url`` is an acceptable webhook target.

    ``allow_loopback`` (development and testing) admits loopback addresses, over http or
    https; nothing else that is not public is ever admitted.
    """
    _resolve(url, allow_loopback=allow_loopback, resolver=resolver)


def resolve_for_send(
    url: str, *, allow_loopback: bool, resolver: Resolver = system_resolver
) -> ResolvedTarget:
    """Resolve ``url`` once, check every address, and return the one to connect to."""
    return _resolve(url, allow_loopback=allow_loopback, resolver=resolver)


def non_public_kind(ip: IPAddress) -> str | None:
    """Name the kind of non-public address ``ip`` is ("private", "loopback"...), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return non_public_kind(embedded)
        for network, kind in _NON_PUBLIC_V6:
            if ip in network:
                return kind
        if ip not in _IPV6_GLOBAL_UNICAST:
            return "reserved"
    else:
        for network, kind in _NON_PUBLIC_V4:
            if ip in network:
                return kind
    if not ip.is_global:
        return "non-public"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when the network delivers it there."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _resolve(url: str, *, allow_loopback: bool, resolver: Resolver) -> ResolvedTarget:
    parsed = _parse_url(url)
    if parsed.scheme == "http" and not allow_loopback:
        raise UnsafeTarget("The URL must use https.")
    addresses = _addresses(parsed, resolver)
    for ip in addresses:
        kind = non_public_kind(ip)
        if kind is None or (kind == LOOPBACK and allow_loopback):
            continue
        if parsed.literal_ip is not None:
            where = f"{parsed.host} is"
        else:
            where = f"{parsed.host} resolves to {ip}, which is"
        raise UnsafeTarget(f"{where} a {kind} address; webhook targets must be public.")
    all_loopback = all(non_public_kind(ip) == LOOPBACK for ip in addresses)
    if parsed.scheme == "http" and not all_loopback:
        raise UnsafeTarget("The URL must use https; http is allowed only for loopback targets.")
    return ResolvedTarget(
        scheme=parsed.scheme,
        host=parsed.host,
        port=parsed.port,
        path_and_query=parsed.path_and_query,
        ip=_connectable(addresses[0]),
    )


def _connectable(ip: IPAddress) -> str:
    # An IPv4-mapped address was checked as IPv4; connect over IPv4 too, which works even
    # where IPv6 is disabled.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _addresses(parsed: _ParsedUrl, resolver: Resolver) -> list[IPAddress]:
    if parsed.literal_ip is not None:
        return [parsed.literal_ip]
    if _is_localhost_name(parsed.host):
        # RFC 6761: localhost names are loopback; asking DNS would only invite a lie.
        return [ipaddress.IPv4Address("127.0.0.1")]
    try:
        answers = list(resolver(parsed.host))
    except (OSError, UnicodeError) as exc:
        raise ResolutionFailed(f"{parsed.host} could not be resolved.") from exc
    addresses: list[IPAddress] = []
    for answer in answers:
        # getaddrinfo appends a zone ("%eth0") to link-local IPv6 answers.
        ip = ipaddress.ip_address(answer.split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise ResolutionFailed(f"{parsed.host} could not be resolved.")
    return addresses


def _is_localhost_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _parse_url(url: str) -> _ParsedUrl:
    if not isinstance(url, str) or not url:
        raise UnsafeTarget("A URL is required.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"The URL must be at most {MAX_URL_LENGTH} characters.")
    # urlsplit silently drops tabs and newlines and treats "\" as data, while browsers and
    # other parsers read "\" as "/": refuse the ambiguity rather than guess.
    if any(ch <= " " or ch == "\x7f" or ch == "\\" for ch in url):
        raise UnsafeTarget("The URL must not contain spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget("The URL is not valid.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("The URL must use https.")
    if "#" in url:
        raise UnsafeTarget("The URL must not contain a fragment.")
    if "@" in parts.netloc:
        raise UnsafeTarget("The URL must not contain a user name or password.")
    if not parts.hostname:
        raise UnsafeTarget("The URL must include a host.")
    if port == 0:
        raise UnsafeTarget("The URL port is not valid.")
    host, literal_ip = _parse_host(parts.hostname, bracketed=parts.netloc.startswith("["))
    path_and_query = parts.path or "/"
    if parts.query:
        path_and_query += "?" + parts.query
    return _ParsedUrl(
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        path_and_query=quote(path_and_query, safe=_PATH_SAFE),
        literal_ip=literal_ip,
    )


def _parse_host(hostname: str, *, bracketed: bool) -> tuple[str, IPAddress | None]:
    """Return the canonical host text and, for IP literals, the address it spells."""
    if bracketed:
        if "%" in hostname:
            raise UnsafeTarget("IPv6 zone identifiers are not allowed in webhook URLs.")
        try:
            ip6 = ipaddress.IPv6Address(hostname)
        except ValueError as exc:
            raise UnsafeTarget(f"[{hostname}] is not a valid IPv6 address.") from exc
        return ip6.compressed, ip6
    # One trailing dot is the fully qualified spelling of the same name.
    host = hostname.removesuffix(".")
    if not host.isascii():
        raise UnsafeTarget("The host must be ASCII; use its punycode (xn--) form.")
    labels = host.split(".")
    if _looks_numeric(labels[-1]):
        ip4 = _parse_ipv4(labels)
        if ip4 is None:
            raise UnsafeTarget(f"{hostname} is not a valid IPv4 address.")
        return str(ip4), ip4
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise UnsafeTarget(f"{hostname} is not a valid host name.")
    return host, None


def _looks_numeric(label: str) -> bool:
    # WHATWG: a host whose last label is a number is an IPv4 address or is invalid.
    if label and set(label) <= _DEC_DIGITS:
        return True
    return label[:2].lower() == "0x" and set(label[2:]) <= _HEX_DIGITS


def _parse_ipv4(labels: list[str]) -> ipaddress.IPv4Address | None:
    """Parse ``a``, ``a.b``, ``a.b.c`` or ``a.b.c.d`` with decimal, 0-octal or 0x-hex parts."""
    if len(labels) > 4:
        return None
    numbers = [_parse_ipv4_number(label) for label in labels]
    if any(number is None for number in numbers):
        return None
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for position, number in enumerate(leading):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def _parse_ipv4_number(text: str) -> int | None:
    if text[:2].lower() == "0x":
        digits, base, allowed = text[2:], 16, _HEX_DIGITS
    elif len(text) > 1 and text.startswith("0"):
        digits, base, allowed = text[1:], 8, _OCT_DIGITS
    else:
        digits, base, allowed = text, 10, _DEC_DIGITS
    if not text or not set(digits) <= allowed:
        return None
    # Checked above, because int() would also accept "_" separators and surrounding spaces.
    return int(digits, base) if digits else 0
