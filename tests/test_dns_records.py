"""``autoconfig dns records``: what a served domain should publish (docs/dns.md).

The pure derivation is checked record by record; then the printed zone snippet is
loaded into a real nsd and ``dns check`` must find nothing wrong with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import dns.zone
import pytest

from autoconfig.dns.query import Resolver
from autoconfig.dns.records import records_for, srv_targets, zone_snippet
from autoconfig.domains.records import Auth, DomainConfig, Protocol, Security, Server
from autoconfig.domains.registry import load_directory
from tests.support.cli import CliResult, run_cli
from tests.support.dns_server import run_nsd, zone_header
from tests.support.paths import DOMAINS, TEST_DATA

DNS_DOMAINS = TEST_DATA / "dns" / "domains"
PROVIDER_ZONE = TEST_DATA / "dns" / "zones" / "provider.test.zone"
SERVER = "config.provider.test"


def bundled(domain: str) -> DomainConfig:
    config = load_directory(DOMAINS).lookup(domain)
    assert config is not None, domain
    return config


def rows(config: DomainConfig, domain: str, server_host: str = SERVER) -> set[tuple[str, str, str]]:
    return {(r.name, r.rdtype, r.value) for r in records_for(config, domain, server_host)}


def autoconfig_cli(*args: str) -> CliResult:
    return run_cli(*args)


def test_records_of_a_provider_with_imap_pop3_and_both_submission_ports() -> None:
    assert rows(bundled("example.com"), "example.com") == {
        ("autoconfig.example.com.", "CNAME", "config.provider.test."),
        ("autodiscover.example.com.", "CNAME", "config.provider.test."),
        ("_submissions._tcp.example.com.", "SRV", "0 1 465 mail.example.com."),
        ("_submission._tcp.example.com.", "SRV", "1 1 587 mail.example.com."),
        ("_imaps._tcp.example.com.", "SRV", "0 1 993 mail.example.com."),
        ("_imap._tcp.example.com.", "SRV", "0 0 0 ."),
        ("_pop3s._tcp.example.com.", "SRV", "1 1 995 mail.example.com."),
        ("_pop3._tcp.example.com.", "SRV", "0 0 0 ."),
        ("_autodiscover._tcp.example.com.", "SRV", "0 1 443 config.provider.test."),
        ("ua-auto-config.example.com.", "CNAME", "config.provider.test."),
        # SHA-256 of the PACC document of domains/example.com.yaml: edit it, and this changes.
        ("_ua-auto-config.example.com.", "TXT",
         '"v=UAAC1; a=sha256; d=9SyHArU2gv0e+uzAEDyYh8Og50M2UsP7cuPTYqxvydQ="'),
        ("_caldavs._tcp.example.com.", "SRV", "0 1 443 dav.example.com."),
        ("_caldavs._tcp.example.com.", "TXT", '"path=/caldav/"'),
        ("_carddavs._tcp.example.com.", "SRV", "0 1 443 dav.example.com."),
        ("_carddavs._tcp.example.com.", "TXT", '"path=/carddav/"'),
    }


def test_services_not_offered_get_the_dot_target() -> None:
    targets = srv_targets(bundled("example.org"), "example.org")  # IMAP and SMTP, no POP3
    for label in ("_pop3s._tcp", "_pop3._tcp"):
        assert [t.rdata() for t in targets[label]] == ["0 0 0 ."], label
    # implicit TLS first (RFC 8314), although the file lists STARTTLS first
    assert [t.rdata() for t in targets["_imaps._tcp"]] == ["0 1 993 imap.example.org."]
    assert [t.rdata() for t in targets["_imap._tcp"]] == ["1 1 143 imap.example.org."]
    assert [t.rdata() for t in targets["_submissions._tcp"]] == ["0 1 465 smtp.example.org."]
    assert [t.rdata() for t in targets["_submission._tcp"]] == ["1 1 587 smtp.example.org."]


def _server(protocol: Protocol, security: Security, port: int) -> Server:
    return Server(protocol, "mail.example.test", port, security, (Auth.PASSWORD,), "%EMAILADDRESS%")


def test_implicit_tls_gets_the_better_priority_whatever_the_file_order() -> None:
    config = DomainConfig(
        source="t.yaml", name="T", short_name=None, domains=("example.test",),
        incoming=(_server(Protocol.IMAP, Security.STARTTLS, 143),
                  _server(Protocol.IMAP, Security.TLS, 993)),
        outgoing=(_server(Protocol.SMTP, Security.STARTTLS, 587),
                  _server(Protocol.SMTP, Security.TLS, 465)),
    )
    targets = srv_targets(config, "example.test")
    assert targets["_imaps._tcp"][0].priority < targets["_imap._tcp"][0].priority
    assert targets["_submissions._tcp"][0].priority < targets["_submission._tcp"][0].priority


def test_hosts_with_emaildomain_are_written_for_the_customer_domain() -> None:
    found = rows(bundled("customer-one.example"), "customer-one.example")
    imaps = ("_imaps._tcp.customer-one.example.", "SRV", "0 1 993 mail.customer-one.example.")
    assert imaps in found
    assert all("%" not in value for _, _, value in found)


def test_a_server_given_by_address_gets_address_records() -> None:
    found = rows(bundled("example.com"), "example.com", server_host="192.0.2.10")
    assert ("autoconfig.example.com.", "A", "192.0.2.10") in found
    found = rows(bundled("example.com"), "example.com", server_host="2001:db8::10")
    assert ("autodiscover.example.com.", "AAAA", "2001:db8::10") in found


def test_the_snippet_is_a_valid_zone_fragment() -> None:
    config = bundled("example.com")
    snippet = zone_snippet("example.com", config.source, records_for(config, "example.com", SERVER))
    zone = dns.zone.from_text(zone_header("example.com") + snippet, origin="example.com.")
    assert zone.find_rdataset("_submissions._tcp", "SRV")[0].port == 465
    assert zone.find_rdataset("autoconfig", "CNAME")[0].target.to_text() == "config.provider.test."


def test_json_format_lists_every_record_with_its_reason() -> None:
    result = autoconfig_cli("dns", "records", "example.com", "--domains", str(DOMAINS),
                            "--server-host", SERVER, "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["domain"] == "example.com"
    assert len(payload["records"]) == 15
    first = payload["records"][0]
    assert first == {
        "name": "autoconfig.example.com.", "ttl": 3600, "type": "CNAME",
        "value": "config.provider.test.",
        "comment":
            "Thunderbird and co.: settings from https://autoconfig.example.com/"
            " (autoconfig docs dns#host-names)",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.example", "--server-host", SERVER], "no domain file lists nowhere.example"),
        (["example.com"], "give --server-host or set AUTOCONFIG_SERVER_HOST"),
        (["exa mple.com", "--server-host", SERVER], "DOMAIN 'exa mple.com': the domain contains"),
        (["example.com", "--server-host", "a..b"], "--server-host 'a..b'"),
    ],
)
def test_bad_input_exits_1_with_a_message(args: list[str], message: str) -> None:
    result = autoconfig_cli("dns", "records", *args, "--domains", str(DOMAINS))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_records_output_loads_into_nsd_and_dns_check_reports_no_errors(tmp_path: Path) -> None:
    printed = autoconfig_cli("dns", "records", "fresh.test", "--domains", str(DNS_DOMAINS),
                             "--server-host", SERVER)
    assert printed.returncode == 0, printed.stderr
    zone = zone_header("fresh.test") + "@ IN MX 10 mx1.provider.test.\n" + printed.stdout
    zones = {"fresh.test": zone, "provider.test": PROVIDER_ZONE.read_text()}
    with run_nsd(zones, tmp_path / "nsd") as server:
        checked = autoconfig_cli("dns", "check", "fresh.test", "--domains", str(DNS_DOMAINS),
                                 "--server-host", SERVER, "--nameserver", server.nameserver)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[-1] == "fresh.test: 0 errors, 0 warnings"
    assert all(line.startswith("ok: ") for line in lines[:-1]), checked.stdout
    assert "ok: _submissions._tcp.fresh.test: points at mail.provider.test:465" in lines


@pytest.mark.parametrize(("server_host", "rdtype"), [("192.0.2.10", "A"), ("2001:DB8::10", "AAAA")])
def test_a_server_given_by_address_gets_host_name_srv_targets(
    tmp_path: Path, server_host: str, rdtype: str
) -> None:
    """RFC 2782: an SRV target is a domain name with A/AAAA records, never an address."""
    printed = autoconfig_cli("dns", "records", "fresh.test", "--domains", str(DNS_DOMAINS),
                             "--server-host", server_host)
    assert printed.returncode == 0, printed.stderr
    lines = [line for line in printed.stdout.splitlines() if not line.startswith(";")]
    address = server_host.lower()
    assert f"autodiscover.fresh.test. 3600 IN {rdtype} {address}" in lines
    assert ("_autodiscover._tcp.fresh.test. 3600 IN SRV 0 1 443 autodiscover.fresh.test."
            in lines)
    srv_targets_printed = [line.split()[-1] for line in lines if " IN SRV " in line]
    assert all(target == "." or target.endswith(".test.") for target in srv_targets_printed)
    zone = zone_header("fresh.test") + printed.stdout
    with run_nsd({"fresh.test": zone}, tmp_path / "nsd") as server:
        resolver = Resolver(server.nameserver, timeout=3.0)
        srv = resolver.lookup("_autodiscover._tcp.fresh.test", "SRV").records
        target = srv[0].target.to_text()
        answer = resolver.lookup(target, rdtype).records
    assert target == "autodiscover.fresh.test."
    assert [str(record) for record in answer] == [address]


def test_a_mail_server_given_by_address_gets_no_srv_record() -> None:
    """No SRV record can name 192.0.2.5; "." would wrongly say the service is absent."""
    server = Server(Protocol.IMAP, "192.0.2.5", 993, Security.TLS, (Auth.PASSWORD,),
                    "%EMAILADDRESS%")
    named = _server(Protocol.SMTP, Security.TLS, 465)
    config = DomainConfig(source="t.yaml", name="T", short_name=None, domains=("example.test",),
                          incoming=(server,), outgoing=(named,))
    found = rows(config, "example.test")
    srv = {(name, value) for name, rdtype, value in found if rdtype == "SRV"}
    assert ("_submissions._tcp.example.test.", "0 1 465 mail.example.test.") in srv
    assert ("_imap._tcp.example.test.", "0 0 0 .") in srv  # STARTTLS IMAP: really not offered
    assert not any(name == "_imaps._tcp.example.test." for name, _ in srv)
    assert not any("192.0.2.5" in value for _, value in srv)
