"""Every client's requests through the shipped nginx config, over HTTPS with SNI.

gunicorn (``autoconfig serve``) and nginx run on loopback; the names
autoconfig.example.com, autodiscover.example.com and example.com (a website that
includes nginx/autoconfig-locations.conf) resolve to 127.0.0.1, and every TLS
connection verifies a CA made by the test.
"""

from __future__ import annotations

import http.client
import json
import plistlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.support.http import Reply, request
from tests.support.nginx import (
    NGINX_DIR,
    TEST_NAMES,
    RunningNginx,
    http_request,
    https_request,
    main_config,
    run_nginx,
)
from tests.support.paths import DOMAINS, TEST_DATA
from tests.support.pki import LoopbackPKI, make_pki
from tests.support.server import RunningServer, run_server
from tests.support.system import require_program

ADDRESS = "alice@example.com"
# Outlook's request for alice@example.com, as the Autodiscover tests send it.
POX_REQUEST = (TEST_DATA / "autodiscover" / "requests" / "outlook-alice.xml").read_bytes()
POX_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
POX_NS = {"r": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
# A customer's website on the same nginx, with the admins' snippet included.
WEBSITE = """
    server {
        listen 127.0.0.1:@HTTPS_PORT@ ssl;
        server_name example.com;
        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        include @SITE_DIR@/autoconfig-locations.conf;
        location / { return 200 "the website\\n"; }
    }
"""
# The functional tests send many requests from one address: a higher rate for them;
# test_rate_limit_answers_429 runs the shipped rate.
RELAXED = {"rate=10r/s": "rate=1000r/s"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LoopbackPKI:
    return make_pki(tmp_path_factory.mktemp("pki"), TEST_NAMES)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("backend") / "server.log"
    with run_server(DOMAINS, log, env={"AUTOCONFIG_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        yield server


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, pki: LoopbackPKI, backend: RunningServer
) -> Iterator[RunningNginx]:
    prefix = tmp_path_factory.mktemp("nginx")
    upstream = backend.base.removeprefix("http://")
    with run_nginx(prefix, pki=pki, backends=[upstream], overrides=RELAXED,
                   extra_http=WEBSITE) as nginx:
        yield nginx


def get(site: RunningNginx, pki: LoopbackPKI, host: str, path: str, **kwargs: Any) -> Reply:
    return https_request(site.https_port, host, path, ca=pki.ca, **kwargs)


def content_type(reply: Reply) -> str:
    return reply.header("Content-Type") or ""


def provider_domains(reply: Reply) -> list[str]:
    root = etree.fromstring(reply.body)
    return [str(d) for d in root.xpath("/clientConfig/emailProvider/domain/text()")]


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("autoconfig.example.com", "/mail/config-v1.1.xml"),
        ("autoconfig.example.com", "/.well-known/autoconfig/mail/config-v1.1.xml"),
        ("example.com", "/.well-known/autoconfig/mail/config-v1.1.xml"),
    ],
)
def test_thunderbird_config_over_https(
    site: RunningNginx, pki: LoopbackPKI, host: str, path: str
) -> None:
    reply = get(site, pki, host, f"{path}?emailaddress={ADDRESS}")
    assert reply.status == 200, reply.text
    assert content_type(reply).startswith("text/xml")
    assert "example.com" in provider_domains(reply)


def test_thunderbird_without_address_takes_domain_from_host(
    site: RunningNginx, pki: LoopbackPKI
) -> None:
    reply = get(site, pki, "autoconfig.example.org", "/mail/config-v1.1.xml")
    assert reply.status == 200, reply.text
    assert "example.org" in provider_domains(reply)


def test_repeated_thunderbird_fetch_is_a_cache_hit(site: RunningNginx, pki: LoopbackPKI) -> None:
    # The key holds the domain as written: a letter case of its own gives this test a
    # fresh entry whatever ran before (within the 10 s the cache keeps one).
    domain = "".join(c.upper() if bit == "1" else c
                     for c, bit in zip("example", f"{uuid.uuid4().int % 127 + 1:07b}", strict=True))
    path = f"/mail/config-v1.1.xml?emailaddress=bob@{domain}.org"
    first = get(site, pki, "autoconfig.example.com", path)
    second = get(site, pki, "autoconfig.example.com", path)
    assert first.status == second.status == 200
    assert first.header("X-Cache-Status") == "MISS"
    assert second.header("X-Cache-Status") == "HIT"
    assert second.body == first.body
    assert "example.org" in provider_domains(second)


def test_cache_keeps_domains_and_hosts_apart(site: RunningNginx, pki: LoopbackPKI) -> None:
    host = "autoconfig.example.com"
    for _ in range(2):  # the second round is served from the cache
        com = get(site, pki, host, "/mail/config-v1.1.xml?emailaddress=carol@example.com")
        org = get(site, pki, host, "/mail/config-v1.1.xml?emailaddress=carol@example.org")
        by_host = get(site, pki, "autoconfig.example.org", "/mail/config-v1.1.xml")
        assert "example.com" in provider_domains(com)
        assert "example.org" not in provider_domains(com)
        assert "example.org" in provider_domains(org)
        assert "example.org" in provider_domains(by_host)
    assert com.header("X-Cache-Status") == "HIT"


def test_bad_address_is_not_served_from_the_cache(site: RunningNginx, pki: LoopbackPKI) -> None:
    for _ in range(2):
        reply = get(site, pki, "autoconfig.example.com",
                    "/mail/config-v1.1.xml?emailaddress=no-at-sign")
        assert reply.status == 400, reply.text
        assert reply.header("X-Cache-Status") == "BYPASS"


@pytest.mark.parametrize(
    "path",
    ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
     "/AUTODISCOVER/AUTODISCOVER.XML"],
)
@pytest.mark.parametrize("host", ["autodiscover.example.com", "example.com"])
def test_pox_post_in_any_letter_case(
    site: RunningNginx, pki: LoopbackPKI, host: str, path: str
) -> None:
    reply = get(site, pki, host, path, method="POST", headers=POX_HEADERS, body=POX_REQUEST)
    assert reply.status == 200, reply.text
    assert content_type(reply).startswith("text/xml")
    types = etree.fromstring(reply.body).xpath("//r:Protocol/r:Type/text()", namespaces=POX_NS)
    assert "IMAP" in types
    assert reply.header("X-Cache-Status") is None  # per-user answers never pass the cache


@pytest.mark.parametrize(
    "path",
    [f"/autodiscover/autodiscover.json?Email={ADDRESS}&Protocol=AutodiscoverV1",
     f"/autodiscover/autodiscover.json/v1.0/{ADDRESS}?Protocol=AutodiscoverV1",
     "/Autodiscover/Autodiscover.json/v1.0/alice%40example.com?Protocol=Autodiscoverv1"],
)
def test_autodiscover_json_v2(site: RunningNginx, pki: LoopbackPKI, path: str) -> None:
    reply = get(site, pki, "autodiscover.example.com", path)
    assert reply.status == 200, reply.text
    assert content_type(reply).startswith("application/json")
    answer = json.loads(reply.body)
    assert answer["Protocol"] == "AutodiscoverV1"
    assert answer["Url"].lower().endswith("/autodiscover/autodiscover.xml")
    assert answer["Url"].startswith("https://")


def test_apple_profile_download(site: RunningNginx, pki: LoopbackPKI) -> None:
    reply = get(site, pki, "autoconfig.example.com",
                f"/apple/profile.mobileconfig?emailaddress={ADDRESS}")
    assert reply.status == 200, reply.text
    assert reply.header("Content-Type") == "application/x-apple-aspen-config"
    # the domain's first incoming protocol (IMAP) names the file
    assert reply.header("Content-Disposition") == (
        'attachment; filename="example.com-imap.mobileconfig"')
    if reply.body.startswith(b"<?xml"):  # unsigned; a signed one is CMS (DER)
        profile = plistlib.loads(reply.body)
        assert profile["PayloadContent"][0]["EmailAddress"] == ADDRESS
    else:
        assert ADDRESS.encode() in reply.body


@pytest.mark.parametrize("path", ["/", "/apple"])
def test_settings_page(site: RunningNginx, pki: LoopbackPKI, path: str) -> None:
    reply = get(site, pki, "autoconfig.example.com", path)
    assert reply.status == 200, reply.text
    assert content_type(reply).startswith("text/html")


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/metrics?name[]=x"])
def test_metrics_are_not_served_to_the_internet(
    site: RunningNginx, pki: LoopbackPKI, backend: RunningServer, path: str
) -> None:
    reply = get(site, pki, "autoconfig.example.com", path)
    assert reply.status == 403
    assert b"autoconfig_requests_total" not in reply.body
    direct = request(backend.base, "/metrics")  # the scraper's way in: the backend itself
    assert direct.status == 200 and b"autoconfig_requests_total" in direct.body


def test_website_keeps_its_other_pages(site: RunningNginx, pki: LoopbackPKI) -> None:
    reply = get(site, pki, "example.com", "/about")
    assert (reply.status, reply.text) == (200, "the website\n")


@pytest.mark.parametrize(
    "path", ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"]
)
def test_outlook_http_probe_is_redirected_to_https(site: RunningNginx, path: str) -> None:
    reply = http_request(site.http_port, "autodiscover.example.com", path)
    assert reply.status == 302
    assert reply.header("Location") == f"https://autodiscover.example.com{path}"


def test_thunderbird_http_fetch_is_redirected_to_https(site: RunningNginx) -> None:
    path = f"/mail/config-v1.1.xml?emailaddress={ADDRESS}"
    reply = http_request(site.http_port, "autoconfig.example.com", path)
    assert reply.status == 301
    assert reply.header("Location") == f"https://autoconfig.example.com{path}"


def test_oversized_pox_body_is_refused_by_nginx(site: RunningNginx, pki: LoopbackPKI) -> None:
    body = b"<Autodiscover>" + b"x" * 65536 + b"</Autodiscover>"
    reply = get(site, pki, "autodiscover.example.com", "/Autodiscover/Autodiscover.xml",
                method="POST", headers=POX_HEADERS, body=body)
    assert reply.status == 413
    assert b"<center>nginx" in reply.body  # nginx's own page: gunicorn never saw the body
    logged = '"POST /Autodiscover/Autodiscover.xml" 413'
    assert logged in site.wait_for_access_log(logged)
    small = get(site, pki, "autodiscover.example.com", "/autodiscover/autodiscover.xml",
                method="POST", headers=POX_HEADERS, body=POX_REQUEST)
    assert small.status == 200  # and the service goes on


def test_backend_sees_the_client_address_not_a_spoofed_one(
    site: RunningNginx, pki: LoopbackPKI, backend: RunningServer
) -> None:
    path = f"/no-such-page-{uuid.uuid4().hex}"
    reply = get(site, pki, "autoconfig.example.com", path, source="127.0.0.2",
                headers={"X-Forwarded-For": "198.51.100.7"})
    assert reply.status == 404
    lines = wait_for_log_line(backend, path)
    assert lines[0].startswith("127.0.0.2 "), lines
    assert "198.51.100.7" not in lines[0]


def test_a_direct_client_cannot_forge_its_address(backend: RunningServer) -> None:
    path = f"/no-such-page-{uuid.uuid4().hex}"
    connection = http.client.HTTPConnection(
        "127.0.0.1", int(backend.base.rsplit(":", 1)[1]), timeout=10,
        source_address=("127.0.0.2", 0),
    )
    try:
        connection.request("GET", path, headers={"X-Forwarded-For": "198.51.100.7"})
        assert connection.getresponse().status == 404
    finally:
        connection.close()
    lines = wait_for_log_line(backend, path)
    assert lines[0].startswith("127.0.0.2 "), lines


def test_access_log_holds_no_email_address(
    site: RunningNginx, pki: LoopbackPKI, backend: RunningServer
) -> None:
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    get(site, pki, "autoconfig.example.com", f"/mail/config-v1.1.xml?emailaddress={address}")
    get(site, pki, "autodiscover.example.com",
        f"/autodiscover/autodiscover.json/v1.0/{address}?Protocol=AutodiscoverV1")
    get(site, pki, "autodiscover.example.com", "/autodiscover/autodiscover.xml", method="POST",
        headers=POX_HEADERS, body=POX_REQUEST.replace(b"alice@example.com", address.encode()))
    get(site, pki, "autoconfig.example.com",
        f"/apple/profile.mobileconfig?emailaddress={address}")
    lines = wait_for_log_line(backend, "/autodiscover/autodiscover.json/v1.0/<address>")
    assert lines
    local_part = address.split("@", maxsplit=1)[0]
    assert local_part not in backend.log()
    nginx_log = site.access_log()
    assert '"GET /autodiscover/autodiscover.json/v1.0/<address>"' in nginx_log
    assert '"GET /mail/config-v1.1.xml" 200' in nginx_log
    assert local_part not in nginx_log


def wait_for_log_line(backend: RunningServer, needle: str, timeout: float = 5.0) -> list[str]:
    """The backend's log lines holding ``needle`` (gunicorn writes them after the reply)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in backend.log().splitlines() if needle in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_rate_limit_answers_429_under_a_burst(
    tmp_path: Path, pki: LoopbackPKI, backend: RunningServer
) -> None:
    """The shipped rate (10/s, burst 20) against 120 requests from one client at once."""
    upstream = backend.base.removeprefix("http://")
    with run_nginx(tmp_path / "nginx", pki=pki, backends=[upstream]) as shipped:
        def one(_: int) -> int:
            return https_request(shipped.https_port, "autoconfig.example.com",
                                 "/mail/config-v1.1.xml", ca=pki.ca).status

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(one, range(120)))
        assert statuses.count(429) > 0, statuses
        assert statuses.count(200) >= 20, statuses  # the burst is served
        assert set(statuses) <= {200, 429}, statuses
        time.sleep(1.0)  # the bucket drains at 10 requests per second
        assert one(0) == 200
        assert '"GET /mail/config-v1.1.xml" 429' in shipped.access_log()


def test_shipped_config_passes_nginx_t_as_the_readme_fills_it(
    tmp_path: Path, pki: LoopbackPKI
) -> None:
    """The README's step 7 (nginx): only the placeholders change, ports 80/443 stay."""
    nginx = require_program("nginx", "nginx")
    conf_dir, cache = tmp_path / "autoconfig", tmp_path / "cache"
    conf_dir.mkdir()
    values = {"@CERT@": str(pki.cert), "@KEY@": str(pki.key), "@BACKEND@": "127.0.0.1:8000",
              "@CONF_DIR@": str(conf_dir), "@CACHE_DIR@": str(cache), "@LOG_DIR@": str(tmp_path)}
    for source in NGINX_DIR.glob("*.conf"):
        text = source.read_text()
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        (conf_dir / source.name).write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(main_config(tmp_path, conf_dir / "autoconfig.conf"))
    checked = subprocess.run([str(nginx), "-t", "-p", str(tmp_path), "-c", str(main)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
