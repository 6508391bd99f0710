"""``autoconfig probe`` against the project's own deployment on loopback.

The real server (gunicorn) serves tests/data/probe/domains behind the shipped nginx
config with a test CA; nsd answers the zones of tests/data/probe/zones. Each domain
is healthy or breaks one thing an admin gets wrong; the probe must give each
client's verdict and, for a breakage, the failing step with its fix.

- good.test: everything right (the profile is signed by the TLS certificate);
- nocert.test: the certificate does not name autodiscover.nocert.test;
- noac.test: autoconfig.noac.test is not in DNS;
- ctype.test: a proxy in front serves the XML as text/plain;
- httponly.test: autoconfig.httponly.test answers only plain http;
- plain.test: its domain file has an IMAP server with ``security: none``;
- stale.test: PACC only, its ``_ua-auto-config`` digest is that of an older document.

good.test's PACC records come from ``autoconfig dns records``, as an admin would
publish them; no other domain but stale.test has a ``ua-auto-config.`` name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.dns_server import DnsServer, load_zones, run_nsd
from tests.support.http import free_port
from tests.support.installed import installed_command
from tests.support.nginx import RunningNginx, run_nginx
from tests.support.paths import TEST_DATA
from tests.support.pki import (
    LoopbackPKI,
    make_pki,
    make_short_lived_signer,
    not_after_of,
    subject_of,
)
from tests.support.probe_timing import startup_seconds
from tests.support.server import run_server
from tests.support.slow_server import dribbling_server

PROBE_DATA = TEST_DATA / "probe"
DOMAINS = ("good", "noac", "nocert", "ctype", "httponly", "plain")
# Every name the certificate holds: all but autodiscover.nocert.test.
NAMES = [f"{prefix}{d}.test" for d in DOMAINS for prefix in ("autoconfig.", "autodiscover.")
         if f"{prefix}{d}" != "autodiscover.nocert"] + [
             "ua-auto-config.good.test", "ua-auto-config.stale.test"]
RELAXED = {"rate=10r/s": "rate=1000r/s"}
# A proxy in front of the server that replaces its Content-Type (ctype.test), and a
# plain-http-only site for autoconfig.httponly.test (@PLAIN_PORT@ is filled per run).
EXTRA_SITES = """
    server {
        listen 127.0.0.1:@HTTPS_PORT@ ssl;
        server_name autoconfig.ctype.test;
        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        location / {
            proxy_pass http://autoconfig_backend;
            proxy_set_header Host $host;
            proxy_hide_header Content-Type;
            add_header Content-Type "text/plain; charset=utf-8" always;
        }
    }
    server {
        listen 127.0.0.1:@PLAIN_PORT@;
        server_name autoconfig.httponly.test;
        location / {
            proxy_pass http://autoconfig_backend;
            proxy_set_header Host $host;
        }
    }
"""


@dataclass
class Deployment:
    """Where the probe's traffic goes: nsd, nginx's ports, the CA to trust."""

    dns: DnsServer
    nginx: RunningNginx
    pki: LoopbackPKI
    plain_port: int
    closed_port: int

    def staging(self, nginx: RunningNginx | None = None) -> list[str]:
        """The staging options that send each name to its loopback port."""
        nginx = nginx or self.nginx
        return [  # discovery only: tests/test_probe_servers.py checks mail servers
            "--no-servers",
            "--nameserver", self.dns.nameserver, "--ca-file", str(self.pki.ca),
            "--connect-to", f"autoconfig.httponly.test:443:127.0.0.1:{self.closed_port}",
            "--connect-to", f"autoconfig.httponly.test:80:127.0.0.1:{self.plain_port}",
            "--connect-to", f":443::{nginx.https_port}",
            "--connect-to", f":80::{nginx.http_port}",
        ]


def probe(deployment: Deployment, address: str, *args: str,
          nginx: RunningNginx | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(installed_command()), "probe", address, *deployment.staging(nginx), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def probe_json(deployment: Deployment, address: str, *args: str) -> dict[str, Any]:
    result = probe(deployment, address, "--format", "json", *args)
    assert result.stderr == ""
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def verdicts(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {client["client"]: client for client in payload["clients"]}


def pacc_records(domain: str) -> list[str]:
    """The ``ua-auto-config`` lines ``autoconfig dns records`` prints for ``domain``."""
    result = run_cli("dns", "records", domain, "--domains", str(PROBE_DATA / "domains"),
                     "--server-host", "127.0.0.1")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines()
             if line.startswith(("ua-auto-config.", "_ua-auto-config."))]
    assert len(lines) == 2, result.stdout
    return lines


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LoopbackPKI:
    return make_pki(tmp_path_factory.mktemp("pki"), NAMES)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, pki: LoopbackPKI) -> Iterator[Deployment]:
    log = tmp_path_factory.mktemp("backend") / "server.log"
    # The TLS certificate also signs the profiles: its CA is the one the probe trusts.
    env = {"AUTOCONFIG_SIGNING_CERT": str(pki.cert), "AUTOCONFIG_SIGNING_KEY": str(pki.key)}
    plain_port, closed_port = free_port(), free_port()
    zones = load_zones(PROBE_DATA / "zones")
    zones["good.test"] += "".join(f"{line}\n" for line in pacc_records("good.test"))
    with (
        run_nsd(zones, tmp_path_factory.mktemp("nsd")) as dns,
        run_server(PROBE_DATA / "domains", log, env=env) as backend,
        run_nginx(tmp_path_factory.mktemp("nginx"), pki=pki,
                  backends=[backend.base.removeprefix("http://")], overrides=RELAXED,
                  extra_http=EXTRA_SITES.replace("@PLAIN_PORT@", str(plain_port))) as nginx,
    ):
        yield Deployment(dns, nginx, pki, plain_port, closed_port)


def failed_steps(verdict: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["action"], s["outcome"], s["fix"]) for s in verdict["steps"] if not s["ok"]]


def settings(verdict: dict[str, Any]) -> list[tuple[str, str, str, int, str, str, str]]:
    return [(s["role"], s["protocol"], s["host"], s["port"], s["security"], s["authentication"],
             s["username"]) for s in verdict["settings"]]


def test_a_healthy_domain_configures_every_client(
    deployment: Deployment, pki: LoopbackPKI
) -> None:
    result = probe(deployment, "alice@good.test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    heads = [line for line in lines if not line.startswith("  ")]
    profile = "https://autoconfig.good.test/apple/profile.mobileconfig?emailaddress=alice%40good.test"
    assert heads[:3] == [
        "Thunderbird desktop: ok: configured from autoconfig (https://autoconfig.good.test"
        "/mail/config-v1.1.xml?emailaddress=alice%40good.test)",
        "Thunderbird for Android: ok: configured from autoconfig"
        " (https://autoconfig.good.test/mail/config-v1.1.xml)",
        "Outlook: ok: configured from Autodiscover (POX)"
        " (https://autodiscover.good.test/autodiscover/autodiscover.xml)",
    ]
    expires = not_after_of(pki.cert).strftime("%Y-%m-%d %H:%M")
    assert heads[3] == (
        f"Apple devices (iOS, macOS): ok: Verified: signed by {subject_of(pki.cert)}; the"
        f" signing certificate expires {expires} UTC ({profile})"
    )
    assert heads[4:] == [
        "Delta Chat: ok: configured (https://autoconfig.good.test/mail/config-v1.1.xml"
        "?emailaddress=alice%40good.test)",
        "PACC (draft-ietf-mailmaint-pacc): ok: configured"
        " (https://ua-auto-config.good.test/.well-known/user-agent-configuration.json)",
        "alice@good.test: ok: 6 ok, 0 warnings, 0 failed",
    ]
    assert lines[1:3] == [
        "  incoming imap mail.good.test:993 SSL auth password-cleartext user alice@good.test",
        "  outgoing smtp mail.good.test:465 SSL auth password-cleartext user alice@good.test",
    ]


def test_each_client_reads_the_healthy_answer_its_own_way(deployment: Deployment) -> None:
    found = verdicts(probe_json(deployment, "bob@good.test"))
    assert settings(found["outlook"]) == [
        ("incoming", "imap", "mail.good.test", 993, "SSL", "password", "bob@good.test"),
        ("outgoing", "smtp", "mail.good.test", 465, "SSL", "password", "bob@good.test"),
        ("outgoing", "smtp", "mail.good.test", 587, "STARTTLS", "password", "bob@good.test"),
    ]
    assert settings(found["apple"]) == [
        ("incoming", "imap", "mail.good.test", 993, "TLS", "EmailAuthPassword", "bob@good.test"),
        ("outgoing", "smtp", "mail.good.test", 465, "TLS", "EmailAuthPassword", "bob@good.test"),
    ]
    assert settings(found["deltachat"])[2] == (
        "outgoing", "smtp", "mail.good.test", 587, "starttls", "", "bob@good.test")
    assert {v["status"] for v in found.values()} == {"ok"}


def test_a_certificate_without_autodiscover_fails_outlook(deployment: Deployment) -> None:
    result = probe(deployment, "alice@nocert.test", "--client", "outlook", "--format", "json")
    assert result.returncode == 1
    outlook = verdicts(json.loads(result.stdout))["outlook"]
    assert outlook["status"] == "fail"
    assert outlook["fix"] == "get a certificate that also names autodiscover.nocert.test"
    steps = failed_steps(outlook)
    assert steps[0] == (
        "GET https://autodiscover.nocert.test/autodiscover/autodiscover.json"
        "?Email=alice%40nocert.test&Protocol=AutodiscoverV1",
        "the certificate of autodiscover.nocert.test names autoconfig.good.test,"
        " autodiscover.good.test, autoconfig.noac.test, autodiscover.noac.test,"
        " autoconfig.nocert.test, autoconfig.ctype.test and 7 more, not autodiscover.nocert.test",
        "get a certificate that also names autodiscover.nocert.test",
    )
    # Every candidate in Outlook's order, the http redirect included, then SRV.
    assert [s["action"] for s in outlook["steps"]] == [
        "GET https://autodiscover.nocert.test/autodiscover/autodiscover.json"
        "?Email=alice%40nocert.test&Protocol=AutodiscoverV1",
        "POST https://nocert.test/autodiscover/autodiscover.xml",
        "POST https://autodiscover.nocert.test/autodiscover/autodiscover.xml",
        "GET http://autodiscover.nocert.test/autodiscover/autodiscover.xml",
        "DNS SRV _autodiscover._tcp.nocert.test",
    ]


def test_a_missing_autoconfig_name_fails_android_and_apple(deployment: Deployment) -> None:
    found = verdicts(probe_json(deployment, "alice@noac.test"))
    fix = "publish an A/AAAA record or a CNAME for autoconfig.noac.test"
    assert {name: (v["status"], v["fix"]) for name, v in found.items()} == {
        "thunderbird": ("warning", fix),  # it falls back to Autodiscover
        "android": ("fail", fix),
        "outlook": ("ok", ""),
        "apple": ("fail", fix),
        "deltachat": ("ok", ""),  # Autodiscover as GET
        # PACC is optional: a domain without it gets a caveat, not a failure.
        "pacc": ("warning", "to offer PACC, publish ua-auto-config.noac.test and its TXT digest"
                 " (`autoconfig dns records` prints both)"),
    }
    assert failed_steps(found["android"])[0] == (
        "GET https://autoconfig.noac.test/mail/config-v1.1.xml",
        "autoconfig.noac.test does not exist in DNS (NXDOMAIN)", fix,
    )
    assert found["thunderbird"]["source"] == (
        "https://autodiscover.noac.test/autodiscover/autodiscover.xml")
    assert found["deltachat"]["source"] == (
        "https://autodiscover.noac.test/autodiscover/autodiscover.xml")


def test_a_proxy_with_the_wrong_content_type_is_named(deployment: Deployment) -> None:
    found = verdicts(probe_json(deployment, "alice@ctype.test"))
    fix = ("serve the file with Content-Type text/xml (a proxy or static file server in front"
           " must keep the server's Content-Type)")
    thunderbird = found["thunderbird"]
    assert (thunderbird["status"], thunderbird["fix"]) == ("warning", fix)
    assert failed_steps(thunderbird)[0][1].startswith("200 text/plain; charset=utf-8, ")
    assert failed_steps(thunderbird)[0][1].endswith(
        " bytes: Thunderbird reads the body only as text/xml, application/xml or text/rdf,"
        " so this is \"not a config\"")
    assert found["android"]["status"] == "ok"  # OkHttpFetcher.kt reads any 2xx
    assert found["apple"]["status"] == "fail"
    assert found["apple"]["fix"] == (
        "pass /apple/ to the autoconfig server (nginx/) and keep its Content-Type")


def test_an_http_only_site_needs_approval_on_android(deployment: Deployment) -> None:
    found = verdicts(probe_json(deployment, "alice@httponly.test"))
    android = found["android"]
    assert (android["status"], android["summary"], android["source"]) == (
        "warning", "found over plain http: the app asks the user to approve these settings",
        "http://autoconfig.httponly.test/mail/config-v1.1.xml")
    assert android["fix"] == "serve the configuration over https"
    assert failed_steps(android)[0] == (
        "GET https://autoconfig.httponly.test/mail/config-v1.1.xml",
        f"autoconfig.httponly.test (127.0.0.1) refused the connection to port"
        f" {deployment.closed_port}",
        "make the web server listen on port 443 for autoconfig.httponly.test",
    )
    thunderbird = found["thunderbird"]
    assert (thunderbird["status"], thunderbird["source"]) == (
        "warning",
        "http://autoconfig.httponly.test/mail/config-v1.1.xml?emailaddress=alice%40httponly.test")
    assert found["apple"]["status"] == "fail"


def test_security_none_is_rejected_by_android_and_a_warning_elsewhere(
    deployment: Deployment
) -> None:
    result = probe(deployment, "alice@plain.test", "--format", "json")
    assert result.returncode == 1  # a selected client fails
    payload = json.loads(result.stdout)
    assert payload["status"] == "fail"
    found = verdicts(payload)
    assert {name: v["status"] for name, v in found.items()} == {
        "thunderbird": "warning", "android": "fail", "outlook": "warning", "apple": "warning",
        "deltachat": "warning",
        "pacc": "warning",  # plain.test publishes no PACC name: optional
    }
    for name in ("thunderbird", "outlook", "apple", "deltachat"):
        assert found[name]["summary"].endswith(
            "; the password would be sent in clear to mail.plain.test:143"), name
        assert found[name]["fix"] == (
            "give every server `security: tls` (or `starttls`) in the domain file")
    android = found["android"]
    assert failed_steps(android)[0][1].endswith(
        " bytes, but the app rejects the whole document: Unknown 'socketType' value: 'plain'")
    assert android["fix"] == (
        "give every imap/smtp server `security: tls` or `starttls` in the domain file: the app"
        " rejects the whole document for one socketType plain")
    assert settings(found["thunderbird"])[0] == (
        "incoming", "imap", "mail.plain.test", 143, "plain", "password-cleartext",
        "alice@plain.test")


PACC_URL = "https://ua-auto-config.{}/.well-known/user-agent-configuration.json"


def test_pacc_accepts_the_document_whose_digest_dns_holds(deployment: Deployment) -> None:
    result = probe(deployment, "carol@good.test", "--client", "pacc")
    assert result.returncode == 0, result.stdout + result.stderr
    body = run_cli("render", "pacc", "carol@good.test", "--domains",
                   str(PROBE_DATA / "domains")).stdout_bytes
    wanted = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert result.stdout.splitlines() == [
        f"PACC (draft-ietf-mailmaint-pacc): ok: configured ({PACC_URL.format('good.test')})",
        "  incoming imap mail.good.test:993 TLS auth password user carol@good.test",
        "  outgoing smtp mail.good.test:465 TLS auth password user carol@good.test",
        f"  step ok: GET {PACC_URL.format('good.test')}: 200 application/json,"
        f" {len(body)} bytes",
        f"  step ok: DNS TXT _ua-auto-config.good.test: d={wanted} matches the document",
        "  note: also configures jmap https://mail.good.test/.well-known/jmap",
        "carol@good.test: ok: 1 ok, 0 warnings, 0 failed",
    ]


def test_a_stale_pacc_digest_fails_with_the_record_to_publish(deployment: Deployment) -> None:
    result = probe(deployment, "carol@stale.test", "--client", "pacc")
    assert result.returncode == 1
    body = run_cli("render", "pacc", "carol@stale.test", "--domains",
                   str(PROBE_DATA / "domains")).stdout_bytes
    wanted = base64.b64encode(hashlib.sha256(body).digest()).decode()
    fix = (f"publish this TXT record: _ua-auto-config.stale.test. 3600 IN TXT"
           f" \"v=UAAC1; a=sha256; d={wanted}\" (every edit of the domain file changes the"
           " digest, so publish the new record after each edit)")
    assert result.stdout.splitlines() == [
        "PACC (draft-ietf-mailmaint-pacc): fail: the digest does not match: the document is"
        " rejected",
        f"  fix: {fix}",
        f"  step ok: GET {PACC_URL.format('stale.test')}: 200 application/json,"
        f" {len(body)} bytes",
        "  step no: DNS TXT _ua-auto-config.stale.test:"
        " d=aKbsBh/zMoXgV+yz8+0aNmoDjtNF0HeOkuFbaK/KZGU=, but the document's SHA-256 is"
        f" d={wanted}: the client rejects it",  # the fix is printed once, above
        "carol@stale.test: fail: 0 ok, 0 warnings, 1 failed",
    ]


def test_client_option_limits_the_probe_and_the_exit_status(deployment: Deployment) -> None:
    result = probe(deployment, "alice@plain.test", "--client", "thunderbird",
                   "--client", "outlook")
    assert result.returncode == 0  # Android, which fails, was not asked
    # Both accept the IMAP server without TLS: configured, with the cleartext caveat.
    assert result.stdout.splitlines()[-1] == (
        "alice@plain.test: warning: 0 ok, 2 warnings, 0 failed")


def _short_lived_signer(directory: Path, seconds: int) -> dict[str, str]:
    cert, key = make_short_lived_signer(directory, seconds)
    return {"AUTOCONFIG_SIGNING_CERT": str(cert), "AUTOCONFIG_SIGNING_KEY": str(key)}


def test_an_expired_signing_certificate_makes_the_profile_unverified(
    deployment: Deployment, pki: LoopbackPKI, tmp_path: Path
) -> None:
    """The server checks the signer at start-up; this one expires while it runs."""
    lifetime = 20
    signer = _short_lived_signer(tmp_path, lifetime)
    signer_cert = Path(signer["AUTOCONFIG_SIGNING_CERT"])
    expires = not_after_of(signer_cert).strftime("%Y-%m-%d %H:%M")
    started = time.monotonic()
    with (
        run_server(PROBE_DATA / "domains", tmp_path / "server.log", env=signer) as backend,
        run_nginx(tmp_path / "nginx", pki=pki, backends=[backend.base.removeprefix("http://")],
                  overrides=RELAXED) as nginx,
    ):
        time.sleep(max(0.0, lifetime + 1 - (time.monotonic() - started)))
        result = probe(deployment, "alice@good.test", "--client", "apple", "--format", "json",
                       nginx=nginx)
    assert result.returncode == 1
    apple = verdicts(json.loads(result.stdout))["apple"]
    assert (apple["status"], apple["summary"]) == ("fail", "the install sheet shows Unverified")
    assert failed_steps(apple) == [(
        "CMS signature",
        f"Unverified: the signing certificate {subject_of(signer_cert)!r} expired on {expires} UTC",
        "renew the signing certificate (AUTOCONFIG_SIGNING_CERT, with its intermediates in"
        " AUTOCONFIG_SIGNING_CHAIN) and restart the server",
    )]


def test_one_hanging_host_does_not_starve_the_other_clients(
    deployment: Deployment, pki: LoopbackPKI
) -> None:
    """autoconfig.good.test dribbles its answer; Outlook, asked later, still gets its share."""
    with dribbling_server(pki.cert, pki.key) as slow:
        hang = ["--connect-to", f"autoconfig.good.test:443:127.0.0.1:{slow.port}",
                "--connect-to", f"autoconfig.good.test:80:127.0.0.1:{slow.port}"]
        command = [str(installed_command()), "probe", "alice@good.test", "--format", "json",
                   "--client", "thunderbird", "--client", "outlook", "--time-limit", "10",
                   *hang, *deployment.staging()]  # the first matching rule wins
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                check=False)
        elapsed = time.monotonic() - started
    assert elapsed < 10 + startup_seconds() + 2, elapsed
    assert result.returncode == 1
    found = verdicts(json.loads(result.stdout))
    thunderbird, outlook = found["thunderbird"], found["outlook"]
    assert thunderbird["status"] == "fail"
    assert thunderbird["summary"] == (
        "its share of the time limit (5.0 s of --time-limit 10) is used up")
    assert failed_steps(thunderbird)[0][1].startswith("autoconfig.good.test sent no complete"
                                                      " answer within ")
    assert (outlook["status"], outlook["summary"]) == ("ok", "configured from Autodiscover (POX)")
