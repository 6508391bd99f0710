"""``autoconfig probe`` is safe to point at anything: no credential, bounded, no traceback.

record.test (tests/data/probe/zones) points every name at a loopback server that
records each request and answers 401 with ``WWW-Authenticate: Basic`` to all of
them: the bait a client answers with a password. The probe must never take it.
"""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.dns_server import DnsServer, load_zones, run_nsd, silent_nameserver
from tests.support.installed import installed_command
from tests.support.paths import TEST_DATA
from tests.support.pki import LoopbackPKI, make_pki
from tests.support.probe_timing import startup_seconds
from tests.support.slow_server import dribbling_server

NAMES = ["autoconfig.record.test", "autodiscover.record.test", "ua-auto-config.record.test",
         "record.test"]


@dataclass
class Recorded:
    """What one request carried."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """Both listeners' ports and every request they saw."""

    https_port: int = 0
    http_port: int = 0
    requests: list[Recorded] = field(default_factory=list)


def _handler(recorder: Recorder) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorder.requests.append(
                Recorded(self.command, self.path, dict(self.headers.items()), body))
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="mail"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def recording_server(pki: LoopbackPKI) -> Iterator[Recorder]:
    recorder = Recorder()
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert, pki.key)
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    recorder.http_port, recorder.https_port = plain.server_port, tls.server_port
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (plain, tls)]
    for thread in threads:
        thread.start()
    try:
        yield recorder
    finally:
        for server in (plain, tls):
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    with run_nsd(load_zones(TEST_DATA / "probe" / "zones"), tmp_path_factory.mktemp("nsd")) as dns:
        yield dns


def run_probe(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(installed_command()), "probe", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_no_request_carries_a_credential(nsd: DnsServer, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", NAMES)
    with recording_server(pki) as recorder:
        result = run_probe(
            "carol@record.test", "--format", "json", "--nameserver", nsd.nameserver,
            "--ca-file", str(pki.ca),
            "--connect-to", f":443:127.0.0.1:{recorder.https_port}",
            "--connect-to", f":80:127.0.0.1:{recorder.http_port}",
        )
    assert result.returncode == 1
    assert result.stderr == ""
    payload = json.loads(result.stdout)
    assert {c["client"]: c["status"] for c in payload["clients"]} == {
        "thunderbird": "fail", "android": "fail", "outlook": "fail", "apple": "fail",
        "deltachat": "fail", "pacc": "fail",
    }
    seen = recorder.requests
    assert len(seen) == len(payload["requests"])  # the report lists every request sent
    assert len(seen) >= 20
    assert all("authorization" not in {k.lower() for k in r.headers} for r in seen)
    assert all(b"password" not in r.body.lower() for r in seen)
    assert all(r.headers.get("Cookie") is None for r in seen)
    posts = [r for r in seen if r.method == "POST"]
    assert posts
    assert all(b"<EMailAddress>carol@record.test</EMailAddress>" in r.body for r in posts)
    # Where a client would answer the 401 with the password, the report says so instead.
    outlook = next(c for c in payload["clients"] if c["client"] == "outlook")
    assert (
        "POST https://autodiscover.record.test/autodiscover/autodiscover.xml",
        "401: Outlook would now send the user's credentials (Basic or NTLM); the probe sends"
        " none and stops here",
    ) in [(s["action"], s["outcome"]) for s in outlook["steps"]]
    pacc = next(c for c in payload["clients"] if c["client"] == "pacc")
    assert [(s["action"], s["outcome"]) for s in pacc["steps"]] == [(
        "GET https://ua-auto-config.record.test/.well-known/user-agent-configuration.json",
        "HTTP 401",
    )]
    assert [r.path for r in seen if r.headers.get("Host") == "ua-auto-config.record.test"] == [
        "/.well-known/user-agent-configuration.json"]
    thunderbird = next(c for c in payload["clients"] if c["client"] == "thunderbird")
    assert (
        "POST https://autodiscover.record.test/autodiscover/autodiscover.xml",
        "401: Thunderbird would now send Basic auth (address and password); the probe sends no"
        " credentials and stops here",
    ) in [(s["action"], s["outcome"]) for s in thunderbird["steps"]]


def test_requests_per_client_are_bounded(nsd: DnsServer, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", NAMES)
    with recording_server(pki) as recorder:
        result = run_probe(
            "carol@record.test", "--format", "json", "--nameserver", nsd.nameserver,
            "--ca-file", str(pki.ca), "--connect-to", f":443:127.0.0.1:{recorder.https_port}",
            "--connect-to", f":80:127.0.0.1:{recorder.http_port}",
        )
    counts: dict[str, int] = {}
    for sent in json.loads(result.stdout)["requests"]:
        counts[sent["client"]] = counts.get(sent["client"], 0) + 1
    # Thunderbird: 4 autoconfig URLs, 3 Autodiscover (its MX base is not in DNS); Outlook:
    # v2, two POSTs, the http GET (SRV names a URL already tried); Delta Chat: 3 + 2; PACC:
    # its one document.
    assert counts == {"thunderbird": 7, "android": 4, "outlook": 4, "apple": 1, "deltachat": 5,
                      "pacc": 1}


def test_a_dead_resolver_gives_one_folded_line_within_the_time_limit() -> None:
    with silent_nameserver() as nameserver:
        started = time.monotonic()
        result = run_probe("dave@example.com", "--nameserver", nameserver, "--time-limit", "8",
                           "--client", "thunderbird", "--no-servers")
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "Thunderbird desktop: fail: the probe's overall time limit of 8 s is used up"
    assert lines[1:3] == [
        "  fix: raise --time-limit, or look at the slow steps above",
        "  fix: check the resolver (--nameserver)",
    ]
    # Every URL fails the same way: one line with a count, not one per URL.
    assert lines[3] == (
        f"  step no: GET https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=dave"
        f"%40example.com: DNS: no answer from {nameserver} within 3 s (asking for A of"
        f" autoconfig.example.com) (and 2 more steps like it)"
    )
    assert elapsed < 8 + startup_seconds() + 2  # the limit, within a second or two


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-address"], "Error: invalid email address 'not-an-address': the address has"
                             " no '@'"),
        (["a@example.com", "--connect-to", "example.com:443"],
         "Error: --connect-to: expected HOST1:PORT1:HOST2:PORT2; got 'example.com:443'"),
        (["a@example.com", "--resolve", "example.com:443:not-an-ip"],
         "Error: --resolve: 'example.com:443:not-an-ip': 'not-an-ip' is not an IP address"),
        (["a@example.com", "--nameserver", "dns.example"],
         "Error: --nameserver: expected an IP address with an optional :PORT; got"
         " 'dns.example'"),
        (["a@example.com", "--client", "mutt"],
         "Error: --client 'mutt': choose from thunderbird, android, outlook, apple, deltachat,"
         " pacc"),
        (["a@example.com", "--time-limit", "0.5"],
         "Error: --time-limit 0.5: give 1 to 600 seconds"),
        (["someone@co.uk"], "Error: co.uk is a public suffix (a registry, not a mail domain):"
                            " the probe sends no address there"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_a_json_error(args: list[str], message: str) -> None:
    result = run_probe(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [message]
    as_json = run_probe(*args, "--format", "json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout) == {"status": "error",
                                          "error": message.removeprefix("Error: ")}


def test_a_ca_file_that_is_not_a_certificate_is_bad_input(tmp_path: Path) -> None:
    not_a_certificate = tmp_path / "ca.pem"
    not_a_certificate.write_text("this is not PEM\n")
    result = run_probe("a@example.com", "--ca-file", str(not_a_certificate), "--format", "json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    error = json.loads(result.stdout)["error"]
    assert error.startswith(f"--ca-file {not_a_certificate}: not a readable PEM certificate file")


def test_a_dribbling_server_cannot_outlast_the_time_limit(nsd: DnsServer, tmp_path: Path) -> None:
    """One byte a second keeps every read alive; the deadline per exchange ends it."""
    pki = make_pki(tmp_path / "pki", NAMES)
    with (dribbling_server(pki.cert, pki.key) as https,
          dribbling_server() as http):
        started = time.monotonic()
        result = run_probe(
            "carol@record.test", "--format", "json", "--nameserver", nsd.nameserver,
            "--ca-file", str(pki.ca), "--time-limit", "10",
            "--connect-to", f":443:127.0.0.1:{https.port}",
            "--connect-to", f":80:127.0.0.1:{http.port}",
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed < 10 + startup_seconds() + 2, elapsed  # the limit, within a second or two
    payload = json.loads(result.stdout)
    assert payload["status"] == "fail"
    clients = {c["client"]: c for c in payload["clients"]}
    assert {c["status"] for c in clients.values()} <= {"fail", "warning"}
    # Every client reached the server and was cut off there, in its own share.
    for name, client in clients.items():
        outcomes = [s["outcome"] for s in client["steps"] if not s["ok"]]
        assert any(" sent no complete answer within " in o for o in outcomes), (name, outcomes)
    assert https.connections >= len(clients)
