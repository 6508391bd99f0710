"""The edge image (deploy/edge/), run with podman as a cluster runs it, in front of the app.

The image is built as ``make edge-image`` builds it (deploy/podman/build-edge: the Debian
base with nginx once per machine, then the image). The installed app (gunicorn from the
wheel under test) serves the bundled domains, plus a logo, on a loopback port; the edge
container runs with a read-only root as user 10001 on the host's network (podman here
cannot give containers their own), with its two ports and the app moved to loopback by
its own settings. Requests come as from the Gateway: plain http from 127.0.0.1 (a
trusted proxy) with the client's address in X-Forwarded-For; each test's client has an
address of its own, so only the rate-limit test meets the shipped rate. Run as root, the
test installs podman, runc, catatonit and mmdebstrap from Debian; without them it fails
under CI=true and is skipped otherwise, saying why.
"""

from __future__ import annotations

import itertools
import json
import os
import plistlib
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from lxml import etree

from tests.support.domain_files import branded_bundled_domains
from tests.support.http import Reply, free_port, request
from tests.support.paths import REPO, TEST_DATA
from tests.support.podman import CONTAINERS_CONF, podman, require_podman
from tests.support.server import RunningServer, run_server
from tests.support.system import wait_for

IMAGE = "localhost/autoconfig-edge:test"
ADDRESS = "alice@example.com"
POX_REQUEST = (TEST_DATA / "autodiscover" / "requests" / "outlook-alice.xml").read_bytes()
POX_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
POX_NS = {"r": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        b'<rect width="10" height="4"/></svg>')
# Clients as the Gateway names them in X-Forwarded-For: one address per request
# (198.18.0.0/15, for benchmarks, RFC 2544), so the per-client rate limit never mixes them.
_CLIENTS = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())


@pytest.fixture(scope="module")
def edge_image() -> str:
    """The edge image built from this checkout, as `make edge-image` builds it."""
    require_podman()
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    result = subprocess.run([str(REPO / "deploy" / "podman" / "build-edge"), IMAGE],
                            capture_output=True, text=True, env=env, timeout=1200, check=False)
    assert result.returncode == 0, f"build-edge failed:\n{result.stdout}\n{result.stderr}"
    return IMAGE


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The installed app on the bundled domains, example.com with a logo (for /brand)."""
    folder = tmp_path_factory.mktemp("app")
    domains = branded_bundled_domains(folder, LOGO, "logo: logo.svg\n")
    with run_server(domains, folder / "server.log",
                    env={"AUTOCONFIG_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        yield server


@dataclass
class Edge:
    """An edge container on loopback ports."""

    name: str
    site: int
    plain: int

    def logs(self) -> str:
        """Its stdout (access log) and stderr (error log) so far."""
        result = podman("logs", self.name)
        return result.stdout + result.stderr


def edge_settings(app: RunningServer, site: int, plain: int) -> dict[str, str]:
    backend = app.base.removeprefix("http://")
    return {
        "AUTOCONFIG_EDGE_LISTEN": f"127.0.0.1:{site}",
        "AUTOCONFIG_EDGE_PLAIN_LISTEN": f"127.0.0.1:{plain}",
        "AUTOCONFIG_EDGE_BACKENDS": f"{backend} {backend}",
        "AUTOCONFIG_EDGE_TRUSTED_PROXIES": "127.0.0.1/32",
    }


def env_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("--env", f"{name}={value}")]


@contextmanager
def run_edge(image: str, app: RunningServer, **overrides: str) -> Iterator[Edge]:
    """The edge container as a pod runs it: read-only root, user 10001, /tmp writable."""
    edge = Edge(f"autoconfig-edge-test-{uuid.uuid4().hex[:8]}", free_port(), free_port())
    settings = {**edge_settings(app, edge.site, edge.plain), **overrides}
    podman("run", "--detach", "--name", edge.name, "--read-only", "--network", "host",
           "--user", "10001", *env_args(settings), image)
    try:
        def answers() -> bool:
            try:
                return request(f"http://127.0.0.1:{edge.site}", "/edge-healthz",
                               timeout=1).status == 204
            except OSError:
                return False

        assert wait_for(answers, timeout=15), f"the edge does not answer:\n{edge.logs()}"
        yield edge
    finally:
        podman("rm", "--force", "--time", "10", edge.name, check=False)


@pytest.fixture(scope="module")
def edge(edge_image: str, app: RunningServer) -> Iterator[Edge]:
    with run_edge(edge_image, app) as running:
        yield running


def get(edge: Edge, host: str, path: str, *, method: str = "GET", plain: bool = False,
        headers: dict[str, str] | None = None, body: bytes | None = None,
        client: str | None = None) -> Reply:
    """One request as the Gateway forwards it: Host, and the client in X-Forwarded-For."""
    port = edge.plain if plain else edge.site
    forwarded = {"Host": host, "X-Forwarded-For": client or next(_CLIENTS),
                 "X-Forwarded-Proto": "http" if plain else "https"}
    return request(f"http://127.0.0.1:{port}", path, method=method,
                   headers={**forwarded, **(headers or {})}, body=body)


def provider_domains(reply: Reply) -> list[str]:
    root = etree.fromstring(reply.body)
    return [str(d) for d in root.xpath("/clientConfig/emailProvider/domain/text()")]


def test_thunderbird_document_and_a_cache_hit(edge: Edge) -> None:
    path = "/mail/config-v1.1.xml?emailaddress=bob@example.org"
    first = get(edge, "autoconfig.example.org", path)
    second = get(edge, "autoconfig.example.org", path)
    assert first.status == second.status == 200, first.text
    assert (first.header("Content-Type") or "").startswith("text/xml")
    assert "example.org" in provider_domains(first)
    assert (first.header("X-Cache-Status"), second.header("X-Cache-Status")) == ("MISS", "HIT")
    assert second.body == first.body


def test_thunderbird_well_known_url_on_the_domain(edge: Edge) -> None:
    reply = get(edge, "example.com",
                f"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={ADDRESS}")
    assert reply.status == 200, reply.text
    assert "example.com" in provider_domains(reply)


def test_pox_post_is_answered(edge: Edge) -> None:
    reply = get(edge, "autodiscover.example.com", "/Autodiscover/Autodiscover.xml",
                method="POST", headers=POX_HEADERS, body=POX_REQUEST)
    assert reply.status == 200, reply.text
    types = etree.fromstring(reply.body).xpath("//r:Protocol/r:Type/text()", namespaces=POX_NS)
    assert "IMAP" in types
    assert reply.header("X-Cache-Status") is None


def test_autodiscover_v2_json(edge: Edge) -> None:
    reply = get(edge, "autodiscover.example.com",
                f"/autodiscover/autodiscover.json/v1.0/{ADDRESS}?Protocol=AutodiscoverV1")
    assert reply.status == 200, reply.text
    answer = json.loads(reply.body)
    assert answer["Protocol"] == "AutodiscoverV1"
    assert answer["Url"].startswith("https://")


def test_pacc_document(edge: Edge, app: RunningServer) -> None:
    path = "/.well-known/user-agent-configuration.json"
    reply = get(edge, "ua-auto-config.example.com", path)
    assert reply.status == 200, reply.text
    assert (reply.header("Content-Type") or "").startswith("application/json")
    direct = request(app.base, path, headers={"Host": "ua-auto-config.example.com"})
    assert reply.body == direct.body  # the bytes DNS publishes the digest of


def test_page_and_brand(edge: Edge) -> None:
    page = get(edge, "autoconfig.example.com", "/")
    assert page.status == 200
    assert (page.header("Content-Type") or "").startswith("text/html")
    assert '<img src="/brand/example.com/logo"' in page.text
    logo = get(edge, "autoconfig.example.com", "/brand/example.com/logo")
    assert (logo.status, logo.header("Content-Type"), logo.body) == (200, "image/svg+xml", LOGO)


def test_apple_profile(edge: Edge) -> None:
    reply = get(edge, "autoconfig.example.com",
                f"/apple/profile.mobileconfig?emailaddress={ADDRESS}")
    assert reply.status == 200, reply.text
    assert reply.header("Content-Type") == "application/x-apple-aspen-config"
    assert plistlib.loads(reply.body)["PayloadContent"][0]["EmailAddress"] == ADDRESS


def test_the_app_is_told_https_and_the_gateways_client(edge: Edge, app: RunningServer) -> None:
    """The Apple page's QR code holds this page's absolute URL, scheme included."""
    path = f"/apple?emailaddress={ADDRESS}"
    host = {"Host": "autoconfig.example.com"}
    through_edge = get(edge, "autoconfig.example.com", path, client="203.0.113.9",
                       headers={"X-Forwarded-Proto": "http"})  # the edge sets its own
    https = request(app.base, path, headers={**host, "X-Forwarded-Proto": "https"})
    http = request(app.base, path, headers={**host, "X-Forwarded-Proto": "http"})
    assert https.body != http.body
    assert through_edge.body == https.body
    assert wait_for(lambda: any(line.startswith("203.0.113.9 ") and "/apple" in line
                                for line in app.log().splitlines()), timeout=5), app.log()


def test_metrics_are_refused_on_the_site_port(edge: Edge) -> None:
    for path in ("/metrics", "/metrics/", "/metrics?name[]=x"):
        reply = get(edge, "autoconfig.example.com", path)
        assert reply.status == 403
        assert b"autoconfig_requests_total" not in reply.body


def test_plain_http_redirects(edge: Edge) -> None:
    probe = get(edge, "autodiscover.example.com", "/autodiscover/autodiscover.xml", plain=True)
    assert probe.status == 302  # Outlook's http probe acts on a 302 only
    assert probe.header("Location") == (
        "https://autodiscover.example.com/autodiscover/autodiscover.xml")
    path = f"/mail/config-v1.1.xml?emailaddress={ADDRESS}"
    other = get(edge, "autoconfig.example.com", path, plain=True)
    assert other.status == 301
    assert other.header("Location") == f"https://autoconfig.example.com{path}"


def test_oversized_pox_body_is_refused_by_the_edge(edge: Edge) -> None:
    body = b"<Autodiscover>" + b"x" * 17 * 1024 + b"</Autodiscover>"
    reply = get(edge, "autodiscover.example.com", "/autodiscover/autodiscover.xml",
                method="POST", headers=POX_HEADERS, body=body)
    assert reply.status == 413
    assert b"<center>nginx" in reply.body  # nginx's own page: the app never saw the body


def test_a_burst_from_one_client_meets_the_rate_limit(edge: Edge) -> None:
    """The shipped rate (10/s, burst 20) per client, the client as X-Forwarded-For says."""
    client = next(_CLIENTS)

    def one(_: int) -> int:
        return get(edge, "autoconfig.example.com", "/mail/config-v1.1.xml", client=client).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(80)))
    assert statuses.count(429) > 0, statuses
    assert statuses.count(200) >= 20, statuses
    assert set(statuses) <= {200, 429}, statuses
    other = get(edge, "autoconfig.example.com", "/mail/config-v1.1.xml")
    assert other.status == 200  # another client behind the same Gateway is not limited


def test_logs_hold_no_address_and_no_control_character(edge: Edge, app: RunningServer) -> None:
    local = f"u{uuid.uuid4().hex[:12]}"
    address = f"{local}@example.com"
    get(edge, "autoconfig.example.com", f"/mail/config-v1.1.xml?emailaddress={address}")
    get(edge, "autodiscover.example.com",
        f"/autodiscover/autodiscover.json/v1.0/{address}?Protocol=AutodiscoverV1")
    get(edge, "autodiscover.example.com", "/autodiscover/autodiscover.xml", method="POST",
        headers=POX_HEADERS, body=POX_REQUEST.replace(b"alice@example.com", address.encode()))
    get(edge, "autoconfig.example.com", f"/apple/profile.mobileconfig?emailaddress={address}")
    get(edge, "autoconfig.example.com", "/forged%0D%0A%1B[31mline%7Fend")
    marker = '"GET /autodiscover/autodiscover.json/v1.0/<address>"'
    assert wait_for(lambda: marker in edge.logs(), timeout=5), edge.logs()
    assert wait_for(lambda: "/autodiscover/autodiscover.json/v1.0/<address>" in app.log(),
                    timeout=5), app.log()
    logs = edge.logs()
    assert '"GET /mail/config-v1.1.xml" 200' in logs
    assert '"POST /autodiscover/autodiscover.xml" 200' in logs
    assert '"GET /forged\\x0D\\x0A\\x1B[31mline\\x7Fend" 404' in logs  # escaped by nginx
    for text in (logs, app.log()):
        assert local not in text
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), text[-2000:]


def test_a_post_is_retried_on_the_next_backend(edge_image: str, app: RunningServer) -> None:
    """A backend that refuses the connection: the POX POST goes to the next one (as a
    fresh connection to the Service reaches a live replica)."""
    backend = app.base.removeprefix("http://")
    with run_edge(edge_image, app,
                  AUTOCONFIG_EDGE_BACKENDS=f"127.0.0.1:{free_port()} {backend}") as own:
        # Round robin: half of them meet the closed port first, and would be a 502 but
        # for the retry (the error log, at crit, does not show the refusals).
        for _ in range(4):
            reply = get(own, "autodiscover.example.com", "/autodiscover/autodiscover.xml",
                        method="POST", headers=POX_HEADERS, body=POX_REQUEST)
            assert reply.status == 200, (reply.text, own.logs())


def test_healthcheck_follows_nginx(edge_image: str, app: RunningServer) -> None:
    """The exec probe's command, the image's HEALTHCHECK, and SIGQUIT's graceful stop."""
    with run_edge(edge_image, app) as own:
        assert podman("exec", own.name, "autoconfig-edge", "healthcheck",
                      check=False).returncode == 0
        assert podman("healthcheck", "run", own.name, check=False).returncode == 0
        podman("stop", "--time", "10", own.name)
        state = podman("inspect", own.name, "--format", "{{.State.ExitCode}}").stdout.strip()
        assert state == "0", own.logs()  # nginx's SIGQUIT: a graceful stop
        # The same command where the stopped edge's site port was (same network).
        after = podman("run", "--rm", "--network", "host", "--no-healthcheck",
                       *env_args(edge_settings(app, own.site, own.plain)), edge_image,
                       "healthcheck", check=False)
        assert after.returncode != 0


@pytest.mark.parametrize(("name", "value"), [
    ("AUTOCONFIG_EDGE_LISTEN", "eighty"),
    ("AUTOCONFIG_EDGE_PLAIN_LISTEN", "8081; deny all"),
    ("AUTOCONFIG_EDGE_BACKENDS", "no-such-host.invalid:8000"),
    ("AUTOCONFIG_EDGE_TRUSTED_PROXIES", "10.0.0.0/8 everyone"),
])
def test_a_bad_setting_is_named_in_one_line(
    edge_image: str, app: RunningServer, name: str, value: str
) -> None:
    settings = {**edge_settings(app, free_port(), free_port()), name: value}
    started = time.monotonic()
    result = podman("run", "--rm", "--read-only", "--network", "host", "--user", "10001",
                    "--no-healthcheck", *env_args(settings), edge_image, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("time=")]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"autoconfig-edge: {name}"), lines
    assert time.monotonic() - started < 30
