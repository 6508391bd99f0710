"""``autoconfig dns check`` against a real authoritative server (nsd) on loopback.

tests/data/dns/zones holds a zone that publishes everything right and one zone per
kind of mistake; each mistake must be reported on one line with its fix. A dead
resolver, a refused zone and NXDOMAIN give a clear message, never a traceback.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from autoconfig.dns.check import Severity, check_domain
from autoconfig.dns.query import Resolver
from autoconfig.domains.registry import load_directory
from tests.support.cli import CliResult, run_cli
from tests.support.dns_server import DnsServer, load_zones, run_nsd, silent_nameserver
from tests.support.paths import TEST_DATA
from tests.support.pki import make_pki

DNS_DATA = TEST_DATA / "dns"
SERVER = "config.provider.test"


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    """nsd serving every zone of tests/data/dns/zones."""
    with run_nsd(load_zones(DNS_DATA / "zones"), tmp_path_factory.mktemp("nsd")) as server:
        yield server


def dns_check(*args: str) -> CliResult:
    return run_cli("dns", "check", *args, "--domains", str(DNS_DATA / "domains"))


def check_lines(nsd: DnsServer, domain: str, *extra: str) -> tuple[int, list[str]]:
    result = dns_check(domain, "--nameserver", nsd.nameserver, "--server-host", SERVER, *extra)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout.splitlines()


def test_a_domain_that_publishes_everything_right_has_no_findings(nsd: DnsServer) -> None:
    status, lines = check_lines(nsd, "good.test")
    assert status == 0
    assert lines[-1] == "good.test: 0 errors, 0 warnings"
    assert lines[:4] == [
        "ok: good.test: best MX is mx1.provider.test (preference 10)",
        "ok: autoconfig.good.test: is a CNAME for config.provider.test",
        "ok: autodiscover.good.test: is a CNAME for config.provider.test",
        "ok: _submissions._tcp.good.test: points at mail.provider.test:465",
    ]
    assert "ok: _pop3s._tcp.good.test: published as not offered (target .)" in lines


MISTAKES = [
    pytest.param(
        "no-autoconfig.test",
        "error: autoconfig.no-autoconfig.test: does not exist (NXDOMAIN); fix: publish"
        " `autoconfig.no-autoconfig.test. 3600 IN CNAME config.provider.test.`",
        id="missing-autoconfig-name",
    ),
    pytest.param(
        "submission-465.test",
        "error: _submission._tcp.submission-465.test: points at port 465, which speaks implicit"
        " TLS: clients following _submission._tcp expect STARTTLS there and fail (RFC 8314"
        " publishes port 465 as _submissions._tcp); the domain file says mail.provider.test:587;"
        " fix: replace it with `_submission._tcp.submission-465.test. IN SRV 1 1 587"
        " mail.provider.test.`",
        id="submission-on-465",
    ),
    pytest.param(
        "wrong-host.test",
        "error: _imaps._tcp.wrong-host.test: points at imap.elsewhere.test:993; the domain file"
        " says mail.provider.test:993; fix: replace it with `_imaps._tcp.wrong-host.test. IN SRV"
        " 0 1 993 mail.provider.test.`",
        id="srv-to-wrong-host",
    ),
    pytest.param(
        "no-mx.test",
        "error: no-mx.test: no MX record: mail servers and clients' MX-based lookup cannot find"
        " the mail host; fix: publish `no-mx.test. 3600 IN MX 10 <your mail exchanger>.`",
        id="missing-mx",
    ),
    pytest.param(
        "pop3-advertised.test",
        "error: _pop3s._tcp.pop3-advertised.test: advertises mail.provider.test:995, but the"
        " domain file offers no such service; fix: publish `_pop3s._tcp.pop3-advertised.test."
        " IN SRV 0 0 0 .` instead, or add the server to the file",
        id="srv-contradicts-file",
    ),
    pytest.param(
        "wrong-address.test",
        "error: autoconfig.wrong-address.test: resolves to 192.0.2.1, not to the autoconfig"
        " server config.provider.test; fix: publish `autoconfig.wrong-address.test. 3600 IN"
        " CNAME config.provider.test.`",
        id="autoconfig-elsewhere",
    ),
]


@pytest.mark.parametrize(("domain", "expected"), MISTAKES)
def test_each_mistake_is_one_error_line_with_its_fix(
    nsd: DnsServer, domain: str, expected: str
) -> None:
    status, lines = check_lines(nsd, domain)
    assert status == 1
    assert [line for line in lines if not line.startswith("ok: ")] == [
        expected, f"{domain}: 1 errors, 0 warnings",
    ]


def test_starttls_with_the_better_priority_is_a_warning(nsd: DnsServer) -> None:
    status, lines = check_lines(nsd, "starttls-first.test")
    assert status == 0  # a warning, not an error
    assert (
        "warning: _submissions._tcp.starttls-first.test: _submission._tcp has the better (lower)"
        " priority; RFC 8314 prefers implicit TLS; fix: give _submissions._tcp a lower priority"
        " than _submission._tcp"
    ) in lines
    assert lines[-1] == "starttls-first.test: 0 errors, 1 warnings"


def test_nxdomain_is_one_clear_error(nsd: DnsServer) -> None:
    status, lines = check_lines(nsd, "gone.provider.test")
    assert status == 1
    assert lines == [
        "error: gone.provider.test: the domain does not exist in DNS (NXDOMAIN); fix: check the"
        " spelling, the delegation of the domain and that its zone is served",
        "gone.provider.test: 1 errors, 0 warnings",
    ]


def test_a_zone_the_server_refuses_gives_a_clear_message(nsd: DnsServer) -> None:
    result = dns_check("unserved.test", "--nameserver", nsd.nameserver)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: cannot check unserved.test: {nsd.nameserver} failed or refused the query for MX"
        " of unserved.test (SERVFAIL or REFUSED: is the zone served?)"
    )


def test_a_server_that_never_answers_gives_a_message_within_the_timeout() -> None:
    with silent_nameserver() as nameserver:
        started = time.monotonic()
        result = dns_check("good.test", "--nameserver", nameserver, "--timeout", "1")
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: cannot check good.test: no answer from {nameserver} within 1 s"
        " (asking for MX of good.test)"
    )
    assert elapsed < 5  # 1 s of waiting plus process start-up


def test_json_output_has_one_object_per_finding(nsd: DnsServer) -> None:
    result = dns_check("wrong-host.test", "--nameserver", nsd.nameserver, "--server-host",
                       SERVER, "--format", "json")
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert (payload["domain"], payload["errors"], payload["warnings"]) == ("wrong-host.test", 1, 0)
    errors = [f for f in payload["findings"] if f["severity"] == "error"]
    assert errors == [{
        "severity": "error", "name": "_imaps._tcp.wrong-host.test",
        "message": "points at imap.elsewhere.test:993; the domain file says mail.provider.test:993",
        "fix": "replace it with `_imaps._tcp.wrong-host.test. IN SRV 0 1 993 mail.provider.test.`",
    }]


def test_without_a_server_host_the_names_only_have_to_resolve(nsd: DnsServer) -> None:
    config = load_directory(DNS_DATA / "domains").lookup("wrong-address.test")
    assert config is not None
    findings = check_domain(config, "wrong-address.test", Resolver(nsd.nameserver, 2))
    host = [f for f in findings if f.name == "autoconfig.wrong-address.test"]
    assert [(f.severity, f.message) for f in host] == [(Severity.OK, "resolves to 192.0.2.1")]


@pytest.mark.parametrize(("server_host", "expected"), [
    ("192.0.2.1", ("ok", "resolves to 192.0.2.1, the autoconfig server's address", "")),
    ("192.0.2.99", ("error", "resolves to 192.0.2.1, not to the autoconfig server 192.0.2.99",
                    "publish `autoconfig.wrong-address.test. 3600 IN A 192.0.2.99`")),
])
def test_a_server_host_given_as_an_address_is_compared_as_one(
    nsd: DnsServer, server_host: str, expected: tuple[str, str, str]
) -> None:
    # The address is not looked up as a name (it used to be: never found, always an error).
    result = dns_check("wrong-address.test", "--nameserver", nsd.nameserver,
                       "--server-host", server_host, "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    (host,) = [f for f in findings if f["name"] == "autoconfig.wrong-address.test"]
    assert (host["severity"], host["message"], host.get("fix")) == expected


@pytest.mark.parametrize(("nameserver", "message"), [
    ("dns.example", "expected an IP address with an optional :PORT; got 'dns.example'"),
    ("127.0.0.1:0", "expected a port from 1 to 65535; got '0'"),
    ("127.0.0.1:99999", "expected a port from 1 to 65535; got '99999'"),
])
def test_a_bad_nameserver_argument_is_refused(nameserver: str, message: str) -> None:
    result = dns_check("good.test", "--nameserver", nameserver)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: --nameserver: {message}"


@contextmanager
def tls_server(cert: Path, key: Path) -> Iterator[int]:
    """A loopback TLS server that completes handshakes and hangs up."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            try:
                with context.wrap_socket(connection, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                connection.close()  # the client rejected our certificate

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_tls_reports_a_certificate_that_does_not_cover_autodiscover(
    nsd: DnsServer, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path / "pki", ["autoconfig.tls.test"])  # autodiscover. forgotten
    with tls_server(pki.cert, pki.key) as port:
        status, lines = check_lines(nsd, "tls.test", "--tls", "--tls-port", str(port),
                                    "--tls-ca", str(pki.ca))
    assert status == 1
    assert any(line.startswith("ok: autoconfig.tls.test: certificate valid, expires ")
               for line in lines), lines
    problems = [line for line in lines if not line.startswith("ok: ")]
    assert problems[0].startswith("error: autodiscover.tls.test: certificate not valid: ")
    assert "Hostname mismatch" in problems[0]
    assert problems[0].endswith(
        "; fix: get a certificate that names autodiscover.tls.test"
        " (autoconfig docs dns#certificates: a wildcard for a parent domain covers one label only)"
    )
    assert problems[1:] == ["tls.test: 1 errors, 0 warnings"]


def test_tls_reports_an_untrusted_certificate(nsd: DnsServer, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", ["autoconfig.tls.test", "autodiscover.tls.test"])
    with tls_server(pki.cert, pki.key) as port:
        status, lines = check_lines(nsd, "tls.test", "--tls", "--tls-port", str(port))
    assert status == 1  # the system trust store does not know the test CA
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 2
    assert all("certificate not valid: unable to get local issuer certificate" in e
               for e in errors), errors
