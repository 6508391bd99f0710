"""The headers every answer shares, the probes, and domain files swapped as Kubernetes does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.http import free_port, request
from tests.support.kubelet import write_atomically_as_kubelet
from tests.support.server import RunningServer, run_server

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " base-uri 'none'; frame-ancestors 'none'"
)
POX = (
    b'<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/'
    b'autodiscover/outlook/requestschema/2006"><Request><EMailAddress>a@example.com'
    b"</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
    b"autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>"
    b"</Autodiscover>"
)


@pytest.mark.parametrize(
    ("method", "path", "status", "cache_control"),
    [
        ("GET", "/mail/config-v1.1.xml?emailaddress=a@example.com", 200, "public, max-age=3600"),
        ("GET", "/mail/config-v1.1.xml?emailaddress=a@nowhere.example", 404, "no-store"),
        ("POST", "/autodiscover/autodiscover.xml", 200, "no-store"),
        ("GET", "/autodiscover/autodiscover.json/v1.0/a@example.com?Protocol=AutodiscoverV1",
         200, "no-store"),
        ("GET", "/autodiscover/autodiscover.json/v1.0/a@example.com?Protocol=Rest", 400,
         "no-store"),
        ("GET", "/apple/profile.mobileconfig?emailaddress=a@example.com", 200, "no-store"),
        ("GET", "/apple/style.css", 200, "public, max-age=3600"),
        ("GET", "/healthz", 200, "no-store"),
        ("GET", "/readyz", 200, "no-store"),
        ("GET", "/metrics", 200, "no-store"),
        ("GET", "/nothing-here", 404, "no-store"),
        ("DELETE", "/healthz", 405, "no-store"),
    ],
)
def test_every_answer_carries_the_shared_headers(
    bundled_server: RunningServer, method: str, path: str, status: int, cache_control: str
) -> None:
    body = POX if method == "POST" else None
    headers = {"Content-Type": "text/xml"} if body else {}
    reply = request(bundled_server.base, path, method=method, body=body, headers=headers)
    assert reply.status == status
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Cache-Control") == cache_control
    assert reply.header("Content-Security-Policy") is None  # not HTML: nothing to confine


@pytest.mark.parametrize(("path", "status"), [("/", 200), ("/?emailaddress=nobody", 400)])
def test_html_answers_carry_the_page_policy(
    bundled_server: RunningServer, path: str, status: int
) -> None:
    reply = request(bundled_server.base, path)
    assert reply.status == status
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("Content-Security-Policy") == PAGE_CSP
    assert reply.header("X-Frame-Options") == "DENY"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Cache-Control") == "no-store"


def test_liveness_and_readiness_say_different_things(bundled_server: RunningServer) -> None:
    live = request(bundled_server.base, "/healthz")
    assert json.loads(live.body) == {"status": "ok", "domains": 6, "files": 4, "errors": 0}
    ready = request(bundled_server.base, "/readyz")
    assert ready.status == 200
    assert json.loads(ready.body) == {"status": "ready", "domains": 6, "generation": 1}


def test_a_configmap_update_is_served_without_restart(
    tmp_path: Path, domains_copy: Path
) -> None:
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    example = (domains_copy / "example.com.yaml").read_text()
    write_atomically_as_kubelet(mounted, {"example.com.yaml": example}, 1)
    query = "/mail/config-v1.1.xml?emailaddress=alice@example.com"
    with run_server(mounted, tmp_path / "server.log") as server:
        assert b"<hostname>mail.example.com</hostname>" in request(server.base, query).body
        write_atomically_as_kubelet(
            mounted, {"example.com.yaml": example.replace("mail.example.com", "imap.example.com")},
            2,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(b"imap.example.com" in request(server.base, query).body for _ in range(10)):
                break
            time.sleep(0.2)
        assert all(b"imap.example.com" in request(server.base, query).body for _ in range(10))
        assert server.process.poll() is None


def test_probe_command_asks_the_bound_address(bundled_server: RunningServer) -> None:
    autoconfig = Path(sys.executable).with_name("autoconfig")
    bind = bundled_server.base.removeprefix("http://")
    env = {**os.environ, "AUTOCONFIG_BIND": bind}
    ok = subprocess.run([str(autoconfig), "healthcheck", "--path", "/readyz"], env=env,
                        capture_output=True, text=True, timeout=30, check=False)
    assert (ok.returncode, ok.stdout) == (0, f"http://{bind}/readyz: 200\n")
    port = free_port()
    env["AUTOCONFIG_BIND"] = f"0.0.0.0:{port}"
    down = subprocess.run([str(autoconfig), "healthcheck"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert down.returncode == 1
    assert down.stderr == (
        f"Error: http://0.0.0.0:{port}/healthz: [Errno 111] Connection refused\n"
    )
