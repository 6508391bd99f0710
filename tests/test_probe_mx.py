"""The MX fallback asks the names Thunderbird asks, and never a public suffix.

nsd answers zones under ``co.uk`` (a public suffix with two labels) through a
counting proxy, so the test sees every DNS question; a loopback https server
records every request. Thunderbird's ``fetchConfigForMX`` (and Thunderbird for
Android's ``MxLookupAutoconfigDiscovery``) take the MX host's registrable domain from
the Public Suffix List, stop when it is the mail domain, and otherwise try the MX
host without its first label, then the registrable domain.

- shop.co.uk: its MX is mail.shop.co.uk, under the mail domain: no MX lookup at all
  (the old two-label rule asked autoconfig.co.uk, sending the address to a registry);
- brand.co.uk: its MX is mx1.eu.hoster.co.uk: eu.hoster.co.uk, then hoster.co.uk.
"""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.dns_server import CountingProxy, DnsServer, run_nsd, zone_header
from tests.support.installed import installed_command
from tests.support.pki import LoopbackPKI, make_pki

ZONES = {
    "shop.co.uk": "@ IN MX 10 mail.shop.co.uk.\nmail IN A 127.0.0.1\n",
    "brand.co.uk": "@ IN MX 10 mx1.eu.hoster.co.uk.\n",
    "hoster.co.uk": "mx1.eu IN A 127.0.0.1\nautoconfig IN A 127.0.0.1\n",
}
NAMES = ["autoconfig.hoster.co.uk", "autoconfig.eu.hoster.co.uk"]


@contextmanager
def recording_https(pki: LoopbackPKI) -> Iterator[tuple[int, list[str]]]:
    """An https server answering 404 to everything; yields its port and Host+path seen."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.headers.get('Host')}{self.path}")
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert, pki.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DnsServer, CountingProxy]]:
    zones = {name: zone_header(name) + records for name, records in ZONES.items()}
    with run_nsd(zones, tmp_path_factory.mktemp("nsd")) as server:
        upstream = int(server.nameserver.rsplit(":", 1)[1])
        with CountingProxy(upstream).running() as proxy:
            yield server, proxy


def probe(proxy: CountingProxy, pki: LoopbackPKI, port: int, address: str,
          ) -> dict[str, Any]:
    result = subprocess.run(
        [str(installed_command()), "probe", address, "--format", "json", "--no-servers",
         "--client", "thunderbird", "--client", "android", "--time-limit", "60",
         "--nameserver", proxy.nameserver, "--ca-file", str(pki.ca),
         "--connect-to", f":443::{port}", "--connect-to", ":80::9"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.stderr == ""
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def mx_step(payload: dict[str, Any], client: str) -> str:
    verdict = next(c for c in payload["clients"] if c["client"] == client)
    return next(s["outcome"] for s in verdict["steps"] if s["action"].startswith("DNS MX "))


def test_an_mx_under_the_mail_domain_gives_no_mx_lookup(
    dns: tuple[DnsServer, CountingProxy], tmp_path: Path
) -> None:
    _, proxy = dns
    pki = make_pki(tmp_path / "pki", NAMES)
    with recording_https(pki) as (port, seen):
        payload = probe(proxy, pki, port, "alice@shop.co.uk")
    for client in ("thunderbird", "android"):
        assert mx_step(payload, client) == (
            "best MX mail.shop.co.uk: its registrable domain is the mail domain, so there is"
            " no MX-based lookup")
    assert proxy.count("autoconfig.co.uk", "A") == 0
    assert proxy.count("co.uk", "A") == 0
    hosts = {url.split("/")[2] for url in (r["url"] for r in payload["requests"])}
    assert all(host.endswith(".shop.co.uk") or host == "shop.co.uk" for host in hosts), hosts
    assert not any(s.startswith("autoconfig.co.uk") for s in seen)


def test_a_multi_label_mx_host_tries_its_parent_then_its_registrable_domain(
    dns: tuple[DnsServer, CountingProxy], tmp_path: Path
) -> None:
    _, proxy = dns
    pki = make_pki(tmp_path / "pki", NAMES)
    with recording_https(pki) as (port, seen):
        payload = probe(proxy, pki, port, "bob@brand.co.uk")
    for client in ("thunderbird", "android"):
        assert mx_step(payload, client) == (
            "best MX mx1.eu.hoster.co.uk: tries eu.hoster.co.uk, hoster.co.uk")
    thunderbird = next(c for c in payload["clients"] if c["client"] == "thunderbird")
    actions = [s["action"] for s in thunderbird["steps"]]
    eu = "https://autoconfig.eu.hoster.co.uk/mail/config-v1.1.xml?emailaddress=bob%40brand.co.uk"
    base = "https://autoconfig.hoster.co.uk/mail/config-v1.1.xml?emailaddress=bob%40brand.co.uk"
    assert actions.index(f"GET {eu}") < actions.index(f"GET {base}")
    # eu.hoster.co.uk has no autoconfig name; hoster.co.uk's server got both clients' GETs.
    assert proxy.count("autoconfig.eu.hoster.co.uk", "A") == 2
    assert "autoconfig.hoster.co.uk/mail/config-v1.1.xml?emailaddress=bob%40brand.co.uk" in seen
    assert "autoconfig.hoster.co.uk/mail/config-v1.1.xml" in seen  # Android sends no address
    assert proxy.count("autoconfig.co.uk", "A") == 0
