"""The webhook target guard: every spelling of a non-public address is refused."""

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.webhooks.ssrf import (
    ResolutionFailed,
    ResolvedTarget,
    UnsafeTarget,
    check_url,
    non_public_kind,
    resolve_for_send,
)

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"


def no_dns(host):
    raise AssertionError(f"looked up {host!r}, but the URL needs no lookup")


class FakeResolver:
    """Answers every lookup from a script of answers and records what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, host):
        self.calls.append(host)
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


# --- literal addresses, in every spelling -------------------------------------------------

NON_PUBLIC_LITERALS = [
    # loopback
    ("http://127.0.0.1/", "loopback"),
    ("https://127.0.0.1/", "loopback"),
    ("https://127.0.0.1./", "loopback"),
    ("https://127.255.255.254:8443/", "loopback"),
    ("https://2130706433/", "loopback"),
    ("https://0177.0.0.1/", "loopback"),
    ("https://0177.0000.0000.0001/", "loopback"),
    ("https://0x7f.1/", "loopback"),
    ("https://0X7F.0.0.1/", "loopback"),
    ("https://0x7f000001/", "loopback"),
    ("https://017700000001/", "loopback"),
    ("https://127.1/", "loopback"),
    ("https://127.0.1/", "loopback"),
    ("https://0177.1/", "loopback"),
    ("https://[::1]/", "loopback"),
    ("https://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://[::ffff:7f00:1]/", "loopback"),
    ("https://[0:0:0:0:0:ffff:127.0.0.1]/", "loopback"),
    ("https://[64:ff9b::127.0.0.1]/", "loopback"),
    ("https://[2002:7f00:1::]/", "loopback"),
    ("https://localhost/", "loopback"),
    ("https://LOCALHOST./", "loopback"),
    ("https://localhost:8443/hook", "loopback"),
    ("https://api.localhost/", "loopback"),
    # cloud metadata and link-local
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://2852039166/", "link-local"),
    ("https://0xa9fea9fe/", "link-local"),
    ("https://0251.0376.0251.0376/", "link-local"),
    ("https://169.254.43518/", "link-local"),
    ("https://[::ffff:a9fe:a9fe]/", "link-local"),
    ("https://[::ffff:169.254.169.254]/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fd00:ec2::254]/", "unique-local"),
    ("https://100.100.100.200/", "carrier-grade NAT"),
    ("https://192.0.0.192/", "reserved"),
    # private
    ("https://10.0.0.1/", "private"),
    ("https://10.1/", "private"),
    ("https://167772161/", "private"),
    ("https://172.16.0.1/", "private"),
    ("https://172.31.255.255/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://0xc0.0xa8.1.1/", "private"),
    ("https://[::ffff:10.0.0.1]/", "private"),
    ("https://[64:ff9b::a00:1]/", "private"),
    ("https://[2002:a00:1::]/", "private"),
    ("https://[2002:c0a8:101::1]/", "private"),
    ("https://[fc00::1]/", "unique-local"),
    ("https://[fd12:3456:789a::1]/", "unique-local"),
    ("https://[fec0::1]/", "site-local"),
    # unspecified: connecting to it reaches the local host
    ("https://0.0.0.0/", "unspecified"),
    ("https://0/", "unspecified"),
    ("https://0x0/", "unspecified"),
    ("https://[::]/", "unspecified"),
    # the rest of the special-purpose space
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://198.18.0.1/", "benchmarking"),
    ("https://192.0.2.1/", "documentation"),
    ("https://198.51.100.7/", "documentation"),
    ("https://203.0.113.9/", "documentation"),
    ("https://[2001:db8::1]/", "documentation"),
    ("https://[3fff::1]/", "documentation"),
    ("https://224.0.0.1/", "multicast"),
    ("https://239.255.255.250/", "multicast"),
    ("https://[ff02::1]/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "reserved"),
    ("https://[64:ff9b:1::808:808]/", "reserved"),
    ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "reserved"),
    ("https://[::127.0.0.1]/", "reserved"),
    ("https://[::a00:1]/", "reserved"),
    ("https://[100::1]/", "reserved"),
]


@pytest.mark.parametrize(("url", "kind"), NON_PUBLIC_LITERALS)
def test_non_public_addresses_are_refused_in_every_spelling(url, kind):
    with pytest.raises(UnsafeTarget) as raised:
        check_url(url, allow_loopback=False, resolver=no_dns)
    if url.startswith("https://"):
        assert f"a {kind} address" in str(raised.value)


@pytest.mark.parametrize(
    ("url", "kind"),
    [(url, kind) for url, kind in NON_PUBLIC_LITERALS if kind != "loopback"],
)
def test_allowing_loopback_admits_nothing_else_non_public(url, kind):
    with pytest.raises(UnsafeTarget, match=f"a {kind} address"):
        check_url(url, allow_loopback=True, resolver=no_dns)


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.215.14/hook",
        "https://1572395790/hook",  # 93.184.215.14 as one number
        "https://[2606:4700:4700::1111]/hook",
        "https://[64:ff9b::808:808]/",  # NAT64 of 8.8.8.8
        "https://[2002:808:808::1]/",  # 6to4 of 8.8.8.8
        "https://[::ffff:8.8.8.8]/",
    ],
)
def test_public_literal_addresses_are_accepted(url):
    check_url(url, allow_loopback=False, resolver=no_dns)


# --- host names are resolved, and every answer must be public -----------------------------


@pytest.mark.parametrize(
    ("answers", "kind"),
    [
        (["10.0.0.5"], "private"),
        (["169.254.169.254"], "link-local"),
        (["127.0.0.1"], "loopback"),
        (["::1"], "loopback"),
        (["::ffff:10.0.0.1"], "private"),
        ([PUBLIC_V4, "127.0.0.1"], "loopback"),
        ([PUBLIC_V4, "192.168.0.10"], "private"),
        ([PUBLIC_V6, "fe80::1%eth0"], "link-local"),
        ([PUBLIC_V6, "fd00::1"], "unique-local"),
    ],
)
def test_a_host_name_with_any_non_public_answer_is_refused(answers, kind):
    resolver = FakeResolver(answers)

    with pytest.raises(UnsafeTarget) as raised:
        check_url("https://hooks.example.com/in", allow_loopback=False, resolver=resolver)

    assert resolver.calls == ["hooks.example.com"]
    assert f"a {kind} address" in str(raised.value)
    assert str(raised.value).startswith("hooks.example.com resolves to ")


def test_a_host_name_with_only_public_answers_is_accepted():
    resolver = FakeResolver([PUBLIC_V4, PUBLIC_V6])

    check_url("https://Hooks.Example.COM./in?x=1", allow_loopback=False, resolver=resolver)

    assert resolver.calls == ["hooks.example.com"]


@pytest.mark.parametrize(
    "failure", [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), []]
)
def test_a_host_name_that_does_not_resolve_is_refused(failure):
    resolver = FakeResolver(failure)

    with pytest.raises(ResolutionFailed, match="could not be resolved"):
        check_url("https://nowhere.example.com/", allow_loopback=False, resolver=resolver)
    assert issubclass(ResolutionFailed, UnsafeTarget)


def test_localhost_names_are_loopback_without_asking_dns():
    check_url("http://localhost:5000/", allow_loopback=True, resolver=no_dns)
    check_url("http://tenant.app.localhost/", allow_loopback=True, resolver=no_dns)
    with pytest.raises(UnsafeTarget, match="loopback"):
        check_url("https://localhost/", allow_loopback=False, resolver=no_dns)


# --- the shape of the URL ------------------------------------------------------------------

MALFORMED = [
    ("ftp://hooks.example.com/", "https"),
    ("file:///etc/passwd", "https"),
    ("gopher://hooks.example.com:70/", "https"),
    ("javascript:alert(1)", "https"),
    ("hooks.example.com/in", "https"),
    ("//hooks.example.com/in", "https"),
    ("", "required"),
    ("https://user:secret@hooks.example.com/", "user name or password"),
    ("https://user@hooks.example.com/", "user name or password"),
    ("https://hooks.example.com@127.0.0.1/", "user name or password"),
    ("https://:secret@hooks.example.com/", "user name or password"),
    ("https:///in", "host"),
    ("https://:443/in", "host"),
    ("https://", "host"),
    ("https://hooks.example.com/in#frag", "fragment"),
    ("https://hooks.example.com/in#", "fragment"),
    ("https://hooks example.com/", "spaces"),
    ("https://hooks.example.com\\@127.0.0.1/", "backslashes"),
    ("https://hooks.example.com\t/", "control"),
    ("https://127.0.0.1\n.hooks.example.com/", "control"),
    ("https://hooks.example.com:0/", "port"),
    ("https://hooks.example.com:99999/", "not valid"),
    ("https://hooks.example.com:http/", "not valid"),
    ("https://256.0.0.1/", "not a valid IPv4"),
    ("https://1.2.3.256/", "not a valid IPv4"),
    ("https://1.2.3.4.5/", "not a valid IPv4"),
    ("https://1.2.3.4.0/", "not a valid IPv4"),
    ("https://0x100.0.0.1/", "not a valid IPv4"),
    ("https://08.0.0.1/", "not a valid IPv4"),
    ("https://4294967296/", "not a valid IPv4"),
    ("https://127.0.0x1000000/", "not a valid IPv4"),
    ("https://1.2..3/", "not a valid IPv4"),
    ("https://hooks.example.123/", "not a valid IPv4"),
    ("https://127.0.0.%31/", "not a valid host name"),
    ("https://-hooks.example.com/", "not a valid host name"),
    ("https://hooks..example.com/", "not a valid host name"),
    ("https://hooks.example.com../", "not a valid host name"),
    ("https://" + "a" * 64 + ".example.com/", "not a valid host name"),
    ("https://bücher.example/", "punycode"),
    ("https://[fe80::1%25eth0]/", "zone"),
    ("https://[::1/", "not valid"),
    ("https://[hooks.example.com]/", "not valid"),
    ("https://hooks.example.com/" + "a" * 2048, "at most"),
]


@pytest.mark.parametrize("allow_loopback", [False, True])
@pytest.mark.parametrize(("url", "message"), MALFORMED)
def test_malformed_urls_are_refused(url, message, allow_loopback):
    with pytest.raises(UnsafeTarget, match=message):
        check_url(url, allow_loopback=allow_loopback, resolver=FakeResolver([PUBLIC_V4]))


def test_messages_are_fit_to_show_the_partner():
    with pytest.raises(UnsafeTarget) as raised:
        check_url("https://0x7f.1/", allow_loopback=False, resolver=no_dns)
    assert str(raised.value) == ("127.0.0.1 is a loopback address; webhook targets must be public.")


# --- http and loopback, which only development and testing allow ---------------------------


@pytest.mark.parametrize("allow_loopback", [False, True])
def test_http_to_a_public_address_is_refused(allow_loopback):
    with pytest.raises(UnsafeTarget, match="https"):
        check_url(
            "http://hooks.example.com/in",
            allow_loopback=allow_loopback,
            resolver=FakeResolver([PUBLIC_V4]),
        )


def test_http_is_refused_without_a_lookup_when_loopback_is_not_allowed():
    with pytest.raises(UnsafeTarget, match="must use https"):
        check_url("http://hooks.example.com/in", allow_loopback=False, resolver=no_dns)


def test_http_to_a_name_with_a_public_and_a_loopback_answer_is_refused():
    with pytest.raises(UnsafeTarget, match="only for loopback"):
        check_url(
            "http://dev.example.com/",
            allow_loopback=True,
            resolver=FakeResolver(["127.0.0.1", PUBLIC_V4]),
        )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000/hook",
        "https://127.0.0.1:5000/hook",
        "http://localhost:5000/hook",
        "https://localhost/hook",
        "http://[::1]:8000/",
        "http://[::ffff:127.0.0.1]:8000/",
        "http://127.1:8000/",
        "http://2130706433:8000/",
    ],
)
def test_loopback_is_accepted_when_allowed(url):
    check_url(url, allow_loopback=True, resolver=no_dns)


def test_a_name_resolving_to_loopback_is_accepted_when_allowed():
    check_url(
        "http://dev.example.com:5000/",
        allow_loopback=True,
        resolver=FakeResolver(["::1"]),
    )


# --- resolve_for_send: resolve once, and pin the checked address ---------------------------


def test_resolve_for_send_pins_the_checked_address():
    resolver = FakeResolver([PUBLIC_V4, PUBLIC_V6])

    target = resolve_for_send(
        "https://Hooks.Example.com./in?event=booking",
        allow_loopback=False,
        resolver=resolver,
    )

    assert target == ResolvedTarget(
        scheme="https",
        host="hooks.example.com",
        port=443,
        path_and_query="/in?event=booking",
        ip=PUBLIC_V4,
    )
    assert resolver.calls == ["hooks.example.com"]


def test_resolve_for_send_refuses_a_name_rebound_to_a_private_address():
    # The name was public when the partner registered it; by delivery time it points inward.
    resolver = FakeResolver([PUBLIC_V4], ["10.0.0.7"])
    check_url("https://hooks.example.com/in", allow_loopback=False, resolver=resolver)

    with pytest.raises(UnsafeTarget, match="10.0.0.7, which is a private address"):
        resolve_for_send("https://hooks.example.com/in", allow_loopback=False, resolver=resolver)
    assert len(resolver.calls) == 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://0x7f.1:8080/a?b=c",
            ("http", "127.0.0.1", 8080, "/a?b=c", "127.0.0.1"),
        ),
        ("http://localhost/", ("http", "localhost", 80, "/", "127.0.0.1")),
        ("https://localhost", ("https", "localhost", 443, "/", "127.0.0.1")),
        ("http://[::1]:9000/x", ("http", "::1", 9000, "/x", "::1")),
        # Checked as IPv4, so connected to over IPv4.
        (
            "http://[::ffff:127.0.0.1]:9000/",
            ("http", "::ffff:7f00:1", 9000, "/", "127.0.0.1"),
        ),
        (
            "https://127.0.0.1/caf\u00e9?q=%20",
            ("https", "127.0.0.1", 443, "/caf%C3%A9?q=%20", "127.0.0.1"),
        ),
    ],
)
def test_resolve_for_send_normalises_literal_hosts(url, expected):
    target = resolve_for_send(url, allow_loopback=True, resolver=no_dns)

    assert (
        target.scheme,
        target.host,
        target.port,
        target.path_and_query,
        target.ip,
    ) == expected


# --- properties ---------------------------------------------------------------------------


def _render_part(value, style):
    if style == "dec":
        return str(value)
    if style == "oct":
        return "0" + format(value, "o")
    if style == "hex":
        return "0x" + format(value, "x")
    return "0X" + format(value, "X")


@st.composite
def ipv4_spellings(draw):
    """An IPv4 address and one of its inet_aton spellings: 1-4 parts, each dec/oct/hex."""
    address = draw(st.integers(min_value=0, max_value=2**32 - 1))
    parts_count = draw(st.integers(min_value=1, max_value=4))
    leading = [(address >> (8 * (3 - i))) & 0xFF for i in range(parts_count - 1)]
    last = address & ((1 << (8 * (5 - parts_count))) - 1)
    styles = st.sampled_from(["dec", "oct", "hex", "HEX"])
    spelled = ".".join(_render_part(part, draw(styles)) for part in [*leading, last])
    return ipaddress.IPv4Address(address), spelled


@given(ipv4_spellings())
def test_every_ipv4_spelling_reaches_the_address_it_spells(spelling):
    address, spelled = spelling
    # The system's own parser reads the spelling the same way; that is the point of parsing
    # it ourselves.
    assert socket.inet_aton(spelled) == address.packed

    kind = non_public_kind(address)
    if kind in (None, "loopback"):
        target = resolve_for_send(f"https://{spelled}/", allow_loopback=True, resolver=no_dns)
        assert target.ip == str(address)
    else:
        with pytest.raises(UnsafeTarget, match=f"^{address} is a {kind} address"):
            check_url(f"https://{spelled}/", allow_loopback=True, resolver=no_dns)


NON_PUBLIC_V4_NETWORKS = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]


@st.composite
def non_public_ipv4(draw):
    network = ipaddress.IPv4Network(draw(st.sampled_from(NON_PUBLIC_V4_NETWORKS)))
    offset = draw(st.integers(min_value=0, max_value=network.num_addresses - 1))
    return network[offset]


@given(non_public_ipv4(), st.sampled_from(["mapped", "nat64", "6to4", "plain"]))
def test_non_public_ipv4_is_refused_however_it_is_wrapped(address, wrapping):
    value = int(address)
    host = {
        "plain": str(address),
        "mapped": f"[{ipaddress.IPv6Address((0xFFFF << 32) | value)}]",
        "nat64": f"[{ipaddress.IPv6Address((0x64FF9B << 96) | value)}]",
        "6to4": f"[{ipaddress.IPv6Address((0x2002 << 112) | (value << 80) | 1)}]",
    }[wrapping]

    with pytest.raises(UnsafeTarget):
        check_url(f"https://{host}/", allow_loopback=False, resolver=no_dns)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450::1"],
)
def test_public_addresses_have_no_non_public_kind(address):
    assert non_public_kind(ipaddress.ip_address(address)) is None
