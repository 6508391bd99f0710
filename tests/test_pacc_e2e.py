"""PACC and RFC 6764 end to end: nsd serves what ``dns records`` printed, nginx (the
shipped config) fronts the real server, and ``dns check --tls`` fetches the document
over HTTPS and compares its digest with the published TXT record; after an edit of the
domain file it must say exactly which record to publish. The ``.well-known`` DAV paths
are followed through the website snippet."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import pytest

from tests.support.cli import run_cli
from tests.support.dns_server import DnsServer, run_nsd, zone_header
from tests.support.http import Reply, request
from tests.support.nginx import RunningNginx, https_request, run_nginx
from tests.support.pacc_reader import read_pacc, verify_digest
from tests.support.paths import TEST_DATA
from tests.support.pki import LoopbackPKI, make_pki
from tests.support.server import RunningServer, run_server

DOMAIN = f"fresh-{uuid.uuid4().hex[:8]}.test"
SERVER_HOST = "config.provider.test"
PACC_HOST = f"ua-auto-config.{DOMAIN}"
PACC_PATH = "/.well-known/user-agent-configuration.json"
PACC_URL = f"https://{PACC_HOST}{PACC_PATH}"
FILE = f"""name: Fresh Mail
domains: [{DOMAIN}]
caldav: https://dav.provider.test/calendars/
carddav: https://dav.provider.test:8443/contacts/
incoming:
  - {{protocol: imap, host: mail.provider.test, security: tls}}
outgoing:
  - {{protocol: smtp, host: mail.provider.test, security: tls}}
"""
WEBSITE = f"""
    server {{
        listen 127.0.0.1:@HTTPS_PORT@ ssl;
        server_name {DOMAIN};
        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        include @SITE_DIR@/autoconfig-locations.conf;
        location / {{ return 200 "the website\\n"; }}
    }}
"""


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("domains")
    (folder / "fresh.yaml").write_text(FILE)
    return folder


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LoopbackPKI:
    names = [f"{p}.{DOMAIN}" for p in ("autoconfig", "autodiscover", "ua-auto-config")]
    return make_pki(tmp_path_factory.mktemp("pki"), [*names, DOMAIN])


@pytest.fixture(scope="module")
def backend(domains: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("backend") / "server.log"
    with run_server(domains, log, env={"AUTOCONFIG_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, pki: LoopbackPKI,
         backend: RunningServer) -> Iterator[RunningNginx]:
    upstream = backend.base.removeprefix("http://")
    with run_nginx(tmp_path_factory.mktemp("nginx"), pki=pki, backends=[upstream],
                   extra_http=WEBSITE) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def nsd(domains: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    """The zone as the admin publishes it: MX plus everything `dns records` printed."""
    printed = run_cli("dns", "records", DOMAIN, "--domains", str(domains),
                  "--server-host", SERVER_HOST)
    assert printed.returncode == 0, printed.stderr
    zones = {
        DOMAIN: zone_header(DOMAIN) + "@ IN MX 10 mx1.provider.test.\n" + printed.stdout,
        "provider.test": (TEST_DATA / "dns" / "zones" / "provider.test.zone").read_text(),
    }
    with run_nsd(zones, tmp_path_factory.mktemp("nsd")) as server:
        yield server


def get(site: RunningNginx, pki: LoopbackPKI, host: str, path: str, **kwargs: Any) -> Reply:
    return https_request(site.https_port, host, path, ca=pki.ca, **kwargs)


def dns_check(domains: Path, nsd: DnsServer, site: RunningNginx,
              pki: LoopbackPKI) -> tuple[int, list[str]]:
    result = run_cli("dns", "check", DOMAIN, "--domains", str(domains), "--nameserver",
                 nsd.nameserver, "--server-host", SERVER_HOST, "--tls", "--tls-port",
                 str(site.https_port), "--tls-ca", str(pki.ca))
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout.splitlines()


def b64_sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def txt_records(nsd: DnsServer) -> list[list[bytes]]:
    """The _ua-auto-config TXT records as nsd hands them to a client."""
    query = dns.message.make_query(f"_ua-auto-config.{DOMAIN}", "TXT")
    answer = dns.query.udp(query, "127.0.0.1", port=nsd.port, timeout=2).answer
    return [list(rdata.strings) for rrset in answer for rdata in rrset]


def test_a_client_accepts_the_document_with_the_published_digest(
    site: RunningNginx, pki: LoopbackPKI, nsd: DnsServer
) -> None:
    reply = get(site, pki, PACC_HOST, PACC_PATH)
    assert reply.status == 200, reply.text
    assert reply.header("Content-Type") == "application/json"
    verify_digest(reply.body, txt_records(nsd))
    config = read_pacc(reply.body)
    assert config.urls == {"caldav": "https://dav.provider.test/calendars/",
                           "carddav": "https://dav.provider.test:8443/contacts/"}
    assert {s.host for s in config.servers.values()} == {"mail.provider.test"}


@pytest.mark.parametrize(
    ("path", "method", "location"),
    [
        ("/.well-known/caldav", "GET", "https://dav.provider.test/calendars/"),
        ("/.well-known/caldav", "PROPFIND", "https://dav.provider.test/calendars/"),
        ("/.well-known/carddav", "GET", "https://dav.provider.test:8443/contacts/"),
        ("/.well-known/carddav", "PROPFIND", "https://dav.provider.test:8443/contacts/"),
    ],
)
def test_well_known_dav_paths_redirect_through_the_website(
    site: RunningNginx, pki: LoopbackPKI, path: str, method: str, location: str
) -> None:
    reply = get(site, pki, DOMAIN, path, method=method, headers={"Depth": "0"})
    assert reply.status == 301, reply.text
    assert reply.header("Location") == location
    assert get(site, pki, DOMAIN, "/other").text == "the website\n"


def test_well_known_dav_of_a_domain_without_the_service_is_404(tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text(FILE.replace(DOMAIN, "plain.test")
                                         .replace("caldav: https://dav.provider.test/calendars/\n",
                                                  ""))
    with run_server(tmp_path, tmp_path / "server.log", workers=1) as server:
        reply = request(server.base, "/.well-known/caldav", headers={"Host": "plain.test"})
        carddav = request(server.base, "/.well-known/carddav", headers={"Host": "plain.test"})
    assert reply.status == 404
    assert reply.text == "plain.test offers no caldav service\n"
    assert carddav.status == 301


def test_dns_check_verifies_the_published_records_then_reports_an_edit(
    domains: Path, site: RunningNginx, pki: LoopbackPKI, nsd: DnsServer
) -> None:
    before = get(site, pki, PACC_HOST, PACC_PATH).body
    status, lines = dns_check(domains, nsd, site, pki)
    assert status == 0, lines
    assert lines[-1] == f"{DOMAIN}: 0 errors, 0 warnings"
    assert f"ok: {PACC_HOST}: is a CNAME for {SERVER_HOST}" in lines
    assert f"ok: {PACC_HOST}: {PACC_URL} sends the document of the file" in lines
    assert f"ok: _ua-auto-config.{DOMAIN}: matches the SHA-256 of the document {PACC_URL}" \
           " sends" in lines
    assert f"ok: _caldavs._tcp.{DOMAIN}: points at dav.provider.test:443, path /calendars/" \
        in lines
    assert f"ok: _carddavs._tcp.{DOMAIN}: points at dav.provider.test:8443, path /contacts/" \
        in lines

    (domains / "fresh.yaml").write_text(FILE.replace("Fresh Mail", "Fresh Mail, renamed"))
    deadline = time.monotonic() + 20
    after = before
    while after == before and time.monotonic() < deadline:
        time.sleep(0.2)
        after = get(site, pki, PACC_HOST, PACC_PATH).body
    assert after != before, "the server did not reload the edited file"
    assert read_pacc(after).provider_name == "Fresh Mail, renamed"

    status, lines = dns_check(domains, nsd, site, pki)
    assert status == 1
    new_record = (f'_ua-auto-config.{DOMAIN}. 3600 IN TXT "v=UAAC1; a=sha256;'
                  f' d={b64_sha256(after)}"')
    assert [line for line in lines if not line.startswith("ok: ")] == [
        f"error: _ua-auto-config.{DOMAIN}: publishes d={b64_sha256(before)}, but the document"
        f" {PACC_URL} sends has d={b64_sha256(after)}, so PACC clients reject it (every edit"
        f" of the domain file changes the digest); fix: replace it with `{new_record}`",
        f"{DOMAIN}: 1 errors, 0 warnings",
    ]
    printed = run_cli("dns", "records", DOMAIN, "--domains", str(domains), "--server-host",
                  SERVER_HOST)
    assert new_record in printed.stdout.splitlines()  # what `dns records` now prints
