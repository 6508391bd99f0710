"""``autoconfig probe`` checks the mail servers the clients would configure.

A real deployment on loopback: nsd answers the zones, the autoconfig server behind
the shipped nginx config answers discovery, and real Dovecot (IMAP, POP3) and
Postfix (submission, with Dovecot's SASL) answer as mail servers, all with one test
CA. The domain files advertise the standard ports; ``--connect-to`` sends each
host:port to the instance that plays it:

- ok.test, starttls.test: healthy, implicit TLS resp. STARTTLS everywhere;
- nostarttls.test: Dovecot and Postfix without TLS;
- expired.test, expiring.test: Dovecot presents (by SNI) an expired certificate, or
  one that ends in five days; wrongname.test: one that does not name the host;
- noplain.test: the servers offer CRAM-MD5 only, the file promises a password login;
- cram.test: the same servers, and the file says ``password-encrypted``;
- wrongport.test: IMAP "993" is Dovecot's plaintext port, SMTP "587" is closed.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support.dns_server import DnsServer, run_nsd, zone_header
from tests.support.http import free_port
from tests.support.installed import installed_command
from tests.support.mail_servers import (
    Certificate,
    Dovecot,
    Postfix,
    run_dovecot,
    run_postfix,
    server_directory,
)
from tests.support.nginx import run_nginx
from tests.support.pki import LoopbackPKI
from tests.support.server import run_server

DAY = datetime.timedelta(days=1)
NOW = datetime.datetime.now(datetime.UTC)
RELAXED = {"rate=10r/s": "rate=1000r/s"}
DOMAINS = ("ok", "starttls", "nostarttls", "expired", "expiring", "wrongname", "noplain",
           "cram", "wrongport")
TLS_ALL = """
incoming:
  - {protocol: imap, host: mail.@D@, port: 993, security: tls@AUTH@}
  - {protocol: pop3, host: mail.@D@, port: 995, security: tls@AUTH@}
outgoing:
  - {protocol: smtp, host: mail.@D@, port: 465, security: tls@AUTH@}
  - {protocol: smtp, host: mail.@D@, port: 587, security: starttls@AUTH@}
"""
STARTTLS_ALL = """
incoming:
  - {protocol: imap, host: mail.@D@, port: 143, security: starttls}
  - {protocol: pop3, host: mail.@D@, port: 110, security: starttls}
outgoing:
  - {protocol: smtp, host: mail.@D@, port: 587, security: starttls}
"""
# The incoming server is the one under test; mail.ok.test sends, so SMTP stays healthy.
IMAP_ONLY = """
incoming:
  - {protocol: imap, host: mail.@D@, port: 993, security: tls}
outgoing:
  - {protocol: smtp, host: mail.ok.test, port: 465, security: tls}
"""
WRONG_PORTS = """
incoming:
  - {protocol: imap, host: mail.@D@, port: 993, security: tls}
outgoing:
  - {protocol: smtp, host: mail.@D@, port: 587, security: starttls}
"""
SERVERS = {"ok": TLS_ALL, "starttls": STARTTLS_ALL, "nostarttls": STARTTLS_ALL,
           "expired": IMAP_ONLY, "expiring": IMAP_ONLY, "wrongname": IMAP_ONLY,
           "noplain": TLS_ALL, "cram": TLS_ALL, "wrongport": WRONG_PORTS}


def domain_file(name: str) -> str:
    auth = ", auth: [password-encrypted]" if name == "cram" else ""
    servers = SERVERS[name].replace("@D@", f"{name}.test").replace("@AUTH@", auth)
    return f"name: Server Test {name}\ndomains:\n  - {name}.test\n{servers}"


def zone(name: str) -> str:
    return zone_header(f"{name}.test") + "".join(
        f"{label} IN A 127.0.0.1\n" for label in ("ns", "mail", "autoconfig", "autodiscover")
    ) + f"@ IN MX 10 mail.{name}.test.\n" + (
        "ua-auto-config IN A 127.0.0.1\n" if name == "ok" else "")  # PACC without its digest


def _write(directory: Path, name: str, chain: trustme.LeafCert) -> Certificate:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    cert.write_bytes(b"".join(p.bytes() for p in chain.cert_chain_pems))
    key.write_bytes(chain.private_key_pem.bytes())
    key.chmod(0o600)
    return Certificate(cert, key)


@dataclass
class Deployment:
    dns: DnsServer
    ca: Path
    https_port: int
    rules: list[str]
    dovecot: Dovecot
    postfix: Postfix
    closed_port: int

    def probe(self, address: str, *args: str, timeout: float = 120,
              ) -> subprocess.CompletedProcess[str]:
        command = [str(installed_command()), "probe", address, "--nameserver",
                   self.dns.nameserver, "--ca-file", str(self.ca), *self.rules, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def servers(self, address: str, *args: str) -> tuple[int, dict[str, Any]]:
        result = self.probe(address, "--format", "json", *args)
        assert result.stderr == ""
        return result.returncode, json.loads(result.stdout)


def _rules(https: int, http: int, *, healthy: tuple[Dovecot, Postfix],
           no_tls: tuple[Dovecot, Postfix], cram: tuple[Dovecot, Postfix],
           closed: int) -> list[str]:
    def to(host: str, port: int, target: int) -> list[str]:
        return ["--connect-to", f"{host}:{port}::{target}"]  # the host is still asked in DNS

    dovecot, postfix = healthy
    rules: list[str] = []
    rules += to("mail.nostarttls.test", 143, no_tls[0].imap)
    rules += to("mail.nostarttls.test", 110, no_tls[0].pop3)
    rules += to("mail.nostarttls.test", 587, no_tls[1].submission)
    for name in ("noplain", "cram"):
        rules += to(f"mail.{name}.test", 993, cram[0].imaps)
        rules += to(f"mail.{name}.test", 995, cram[0].pop3s)
        rules += to(f"mail.{name}.test", 465, cram[1].submissions)
        rules += to(f"mail.{name}.test", 587, cram[1].submission)
    rules += to("mail.wrongport.test", 993, dovecot.imap)  # plaintext where TLS is said
    rules += to("mail.wrongport.test", 587, closed)
    rules += to("", 993, dovecot.imaps) + to("", 995, dovecot.pop3s)
    rules += to("", 143, dovecot.imap) + to("", 110, dovecot.pop3)
    rules += to("", 465, postfix.submissions) + to("", 587, postfix.submission)
    rules += to("", 443, https) + to("", 80, http)
    return rules


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("servers")
    (work / "domains").mkdir()
    for name in DOMAINS:
        (work / "domains" / f"{name}.test.yaml").write_text(domain_file(name))
    with server_directory("autoconfig-mail-") as mail:
        ca = trustme.CA()
        ca_file = mail / "ca.pem"
        ca_file.write_bytes(ca.cert_pem.bytes())
        web_names = [f"{p}.{d}.test" for d in DOMAINS for p in ("autoconfig", "autodiscover")]
        web_names.append("ua-auto-config.ok.test")
        web = _write(mail, "web", ca.issue_cert(*web_names, not_before=NOW - DAY,
                                                not_after=NOW + 90 * DAY))
        hosts = [f"mail.{d}.test" for d in DOMAINS if d not in ("expired", "expiring",
                                                                 "wrongname")]
        good = _write(mail, "mail", ca.issue_cert(*hosts, common_name=hosts[0],
                                                  not_before=NOW - DAY, not_after=NOW + 90 * DAY))
        sni = {
            "mail.expired.test": _write(mail, "expired", ca.issue_cert(
                "mail.expired.test", not_before=NOW - 400 * DAY, not_after=NOW - DAY)),
            "mail.expiring.test": _write(mail, "expiring", ca.issue_cert(
                "mail.expiring.test", not_before=NOW - 80 * DAY, not_after=NOW + 5 * DAY)),
        }
        pki = LoopbackPKI(ca_file, web.cert, web.key)
        env = {"AUTOCONFIG_SIGNING_CERT": str(web.cert), "AUTOCONFIG_SIGNING_KEY": str(web.key)}
        closed = free_port()
        with (
            run_nsd({f"{d}.test": zone(d) for d in DOMAINS}, work / "nsd") as dns,
            run_server(work / "domains", work / "server.log", env=env) as backend,
            run_nginx(work / "nginx", pki=pki, backends=[backend.base.removeprefix("http://")],
                      overrides=RELAXED) as nginx,
            run_dovecot(mail / "dovecot", good, sni=sni) as dovecot,
            run_dovecot(mail / "dovecot-plain", good, tls=False) as plain_dovecot,
            run_dovecot(mail / "dovecot-cram", good, mechanisms="cram-md5") as cram_dovecot,
            run_postfix(mail / "postfix", good, dovecot.auth_socket) as postfix,
            run_postfix(mail / "postfix-plain", good, plain_dovecot.auth_socket,
                        tls=False) as plain_postfix,
            run_postfix(mail / "postfix-cram", good, cram_dovecot.auth_socket) as cram_postfix,
        ):
            rules = _rules(nginx.https_port, nginx.http_port, healthy=(dovecot, postfix),
                           no_tls=(plain_dovecot, plain_postfix),
                           cram=(cram_dovecot, cram_postfix), closed=closed)
            yield Deployment(dns, ca_file, nginx.https_port, rules, dovecot, postfix, closed)


def by_server(payload: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f"{s['protocol']} {s['host']}:{s['port']} {s['security']}": (s["status"], s["outcome"])
            for s in payload["servers"]}


def verdicts(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {client["client"]: client for client in payload["clients"]}


def valid_until(deployment: Deployment) -> str:
    del deployment
    return (NOW + 90 * DAY).strftime("%Y-%m-%d")  # the mail certificate's end


def test_healthy_implicit_tls_servers_pass_and_the_probe_exits_0(
    deployment: Deployment
) -> None:
    result = deployment.probe("alice@ok.test")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("Mail servers (greeting and capabilities only; the probe never"
                        " logs in):")
    servers = [line for line in lines[start + 1:] if line.startswith("  ") and
               not line.startswith("    ")]
    until = valid_until(deployment)
    assert servers == [
        f"  imap mail.ok.test:993 tls: ok: TLS, certificate valid until {until},"
        " AUTH PLAIN LOGIN after TLS",
        f"  smtp mail.ok.test:465 tls: ok: TLS, certificate valid until {until},"
        " AUTH PLAIN LOGIN after TLS",
        f"  pop3 mail.ok.test:995 tls: ok: TLS, certificate valid until {until},"
        " AUTH PLAIN LOGIN after TLS",
        f"  smtp mail.ok.test:587 starttls: ok: STARTTLS, certificate valid until {until},"
        " AUTH PLAIN LOGIN after TLS",
    ]  # in the order the clients name them (Thunderbird's two, then Outlook's others)
    # PACC without its TXT digest: a caveat (no shipping client reads PACC), not a failure.
    pacc = next(line for line in lines if line.startswith("PACC"))
    assert pacc == (
        "PACC (draft-ietf-mailmaint-pacc): warning: no digest record: a PACC client would"
        " reject the document and fall back to other discovery (PACC is optional; today's"
        " mail clients do not read it)")
    assert lines[-1] == "alice@ok.test: warning: 5 ok, 1 warnings, 0 failed"


def test_healthy_starttls_servers_pass(deployment: Deployment) -> None:
    status, payload = deployment.servers("bob@starttls.test", "--client", "thunderbird",
                                         "--client", "outlook")
    assert status == 0
    until = valid_until(deployment)
    assert by_server(payload) == {
        "imap mail.starttls.test:143 starttls": (
            "ok", f"STARTTLS, certificate valid until {until}, AUTH PLAIN LOGIN after TLS"),
        "smtp mail.starttls.test:587 starttls": (
            "ok", f"STARTTLS, certificate valid until {until}, AUTH PLAIN LOGIN after TLS"),
        "pop3 mail.starttls.test:110 starttls": (
            "ok", f"STARTTLS, certificate valid until {until}, AUTH PLAIN LOGIN after TLS"),
    }
    assert payload["status"] == "ok"
    assert {v["status"] for v in payload["clients"]} == {"ok"}


def test_servers_without_starttls_fail_the_clients_that_use_them(
    deployment: Deployment
) -> None:
    status, payload = deployment.servers("carol@nostarttls.test", "--client", "thunderbird")
    assert status == 1
    message = "STARTTLS not offered — the client would refuse or send the password in clear"
    assert by_server(payload) == {
        "imap mail.nostarttls.test:143 starttls": ("fail", message),
        "smtp mail.nostarttls.test:587 starttls": ("fail", message),
    }
    thunderbird = verdicts(payload)["thunderbird"]
    assert thunderbird["status"] == "fail"
    assert thunderbird["summary"] == (
        f"configured from autoconfig; but mail.nostarttls.test:143: {message}"
        " (and 1 more server problems below)")
    assert thunderbird["fix"] == (
        "enable STARTTLS on the IMAP server with a certificate for mail.nostarttls.test")
    text = deployment.probe("carol@nostarttls.test", "--client", "thunderbird")
    assert [line for line in text.stdout.splitlines() if "fix:" in line] == [
        "  fix: enable STARTTLS on the IMAP server with a certificate for mail.nostarttls.test",
        "  fix: enable STARTTLS on the SMTP server with a certificate for mail.nostarttls.test",
        "    fix: enable STARTTLS on the IMAP server with a certificate for"
        " mail.nostarttls.test",
        "    fix: enable STARTTLS on the SMTP server with a certificate for"
        " mail.nostarttls.test",
    ]  # once per client, once per server
    assert payload["status"] == "fail"


def test_no_servers_skips_the_check(deployment: Deployment) -> None:
    status, payload = deployment.servers("carol@nostarttls.test", "--client", "thunderbird",
                                         "--no-servers")
    assert status == 0
    assert "servers" not in payload
    assert verdicts(payload)["thunderbird"]["status"] == "ok"


def test_certificates_expired_expiring_and_for_another_name(deployment: Deployment) -> None:
    found = {}
    for name in ("expired", "expiring", "wrongname"):
        _, payload = deployment.servers(f"dave@{name}.test", "--client", "thunderbird")
        found[name] = by_server(payload)[f"imap mail.{name}.test:993 tls"]
    ends = (NOW + 5 * DAY).strftime("%Y-%m-%d %H:%M")
    assert found["expired"] == ("fail", "the certificate of mail.expired.test has expired")
    assert found["expiring"][0] == "warning"
    # trustme rounds nothing: the minute printed is the one the certificate ends in.
    assert found["expiring"][1].startswith(f"TLS, the certificate expires on {ends[:10]}")
    assert found["expiring"][1].endswith(" UTC, within 14 days, AUTH PLAIN LOGIN after TLS")
    assert found["wrongname"] == ("fail", (
        "the certificate of mail.wrongname.test names mail.ok.test, mail.starttls.test,"
        " mail.nostarttls.test, mail.noplain.test, mail.cram.test, mail.wrongport.test,"
        " not mail.wrongname.test"))
    result = deployment.probe("dave@expiring.test", "--client", "thunderbird")
    assert result.returncode == 0  # a warning: the client still connects today
    assert result.stdout.splitlines()[0].startswith(
        "Thunderbird desktop: warning: configured from autoconfig; but mail.expiring.test:993:"
        " TLS, the certificate expires on ")


def test_auth_methods_after_tls_must_include_what_the_file_promises(
    deployment: Deployment
) -> None:
    status, payload = deployment.servers("erin@noplain.test", "--client", "thunderbird")
    assert status == 1
    imap = by_server(payload)["imap mail.noplain.test:993 tls"]
    assert imap == ("ok", f"TLS, certificate valid until {valid_until(deployment)},"
                          " AUTH CRAM-MD5 after TLS")
    thunderbird = verdicts(payload)["thunderbird"]
    assert thunderbird["status"] == "fail"
    failed = [s for s in thunderbird["steps"] if not s["ok"]]
    assert failed[0]["action"] == "server imap mail.noplain.test:993 tls"
    assert failed[0]["outcome"] == (
        "offers AUTH CRAM-MD5, not PLAIN or LOGIN, which the client would use")
    # The same servers are right for a file that says password-encrypted.
    status, payload = deployment.servers("erin@cram.test", "--client", "thunderbird")
    assert status == 0, payload
    assert verdicts(payload)["thunderbird"]["status"] == "ok"


def test_a_wrong_port_is_named(deployment: Deployment) -> None:
    status, payload = deployment.servers("frank@wrongport.test", "--client", "thunderbird")
    assert status == 1
    found = by_server(payload)
    status_993, outcome_993 = found["imap mail.wrongport.test:993 tls"]
    assert status_993 == "fail"
    assert outcome_993.startswith("no TLS with mail.wrongport.test: ")
    assert found["smtp mail.wrongport.test:587 starttls"] == (
        "fail", f"mail.wrongport.test (127.0.0.1) refused the connection to port"
                f" {deployment.closed_port}")
    fixes = [s["fix"] for s in verdicts(payload)["thunderbird"]["steps"] if not s["ok"]]
    assert fixes == [
        "make port 993 of mail.wrongport.test speak TLS from the first byte (RFC 8314), or"
        " correct port and security in the domain file",
        "make the SMTP server listen on port 587 for mail.wrongport.test",
    ]


def test_the_probe_never_logs_in(deployment: Deployment) -> None:
    deployment.probe("grace@ok.test")
    deployment.probe("grace@starttls.test")
    dovecot = deployment.dovecot.log.read_text()
    postfix = deployment.postfix.log.read_text()
    assert "no auth attempts" in dovecot  # Dovecot's word for a session that never logged in
    assert "auth failed" not in dovecot
    assert "Login: user=" not in dovecot
    assert "sasl_method=" not in postfix
    assert "connect from" in postfix
