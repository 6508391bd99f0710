"""``autoconfig import xml|srv``: domain files from what providers already publish.

Output must be YAML that ``autoconfig check`` accepts, with a comment at each
thing that could not be mapped; bad input is a message and exit status 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from autoconfig.dns.records import SrvTarget
from autoconfig.domains.load import load_file
from autoconfig.domains.records import Auth, DomainConfig, Protocol, Security
from autoconfig.importers.srv import srv_to_yaml
from tests.support.cli import CliResult, run_cli
from tests.support.dns_server import DnsServer, load_zones, run_nsd
from tests.support.installed import run_installed
from tests.support.paths import REPO, TEST_DATA

IMPORT_DATA = TEST_DATA / "dns" / "import"


def autoconfig_cli(*args: str) -> CliResult:
    return run_cli(*args, cwd=REPO)


def accepted(yaml_text: str, directory: Path) -> DomainConfig:
    """Write the imported file and require `autoconfig check` to accept it."""
    directory.mkdir()
    path = directory / "imported.yaml"
    path.write_text(yaml_text)
    checked = autoconfig_cli("check", str(directory))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    loaded = load_file(path).loaded
    assert loaded is not None
    return loaded.config


def test_xml_import_maps_everything_it_can_and_comments_the_rest(tmp_path: Path) -> None:
    result = autoconfig_cli("import", "xml", "tests/data/dns/import/everything.xml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (IMPORT_DATA / "everything.expected.yaml").read_text()
    config = accepted(result.stdout, tmp_path / "domains")
    assert config.domains == ("example-isp.test", "xn--bcher-isp-q9a.test")
    assert [(s.protocol, s.host, s.port, s.security, s.auth, s.username)
            for s in config.incoming] == [
        (Protocol.IMAP, "imap.example-isp.test", 993, Security.TLS,
         (Auth.OAUTH2, Auth.PASSWORD), "%EMAILADDRESS%"),
        (Protocol.POP3, "pop.%EMAILDOMAIN%", 995, Security.TLS,
         (Auth.PASSWORD_ENCRYPTED,), "%EMAILLOCALPART%"),
    ]
    assert config.incoming[1].pop3 is not None
    assert config.incoming[1].pop3.days_to_leave == 14
    assert [(s.host, s.port, s.security, s.auth, s.username) for s in config.outgoing] == [
        ("smtp.example-isp.test", 465, Security.TLS, (Auth.PASSWORD,), "%EMAILADDRESS%"),
        ("relay.example-isp.test", 25, Security.NONE, (Auth.NONE,), None),
    ]
    assert (config.webmail, config.help_url) == (
        "https://webmail.example-isp.test/", "https://example-isp.test/help",
    )


def test_a_server_without_login_round_trips_to_no_username(tmp_path: Path) -> None:
    """An outgoing server with no authentication and no <username> gets none back."""
    result = autoconfig_cli("import", "xml", "tests/data/dns/import/everything.xml")
    accepted(result.stdout, tmp_path / "domains")
    rendered = autoconfig_cli("render", "thunderbird", "someone@example-isp.test",
                              "--domains", str(tmp_path / "domains"))
    assert rendered.returncode == 0, rendered.stderr
    document = etree.fromstring(rendered.stdout_bytes)
    relay = document.xpath("//outgoingServer[hostname='relay.example-isp.test']")
    assert len(relay) == 1
    assert relay[0].xpath("username") == []
    assert relay[0].xpath("authentication/text()") == ["none"]
    smtp = document.xpath("//outgoingServer[hostname='smtp.example-isp.test']/username/text()")
    assert smtp == ["%EMAILADDRESS%"]


def test_xml_import_reads_standard_input(tmp_path: Path) -> None:
    xml = (IMPORT_DATA / "everything.xml").read_bytes()
    result = run_installed("import", "xml", "-", stdin=xml)  # a real process's stdin
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Imported from <stdin> by `autoconfig import xml`.\n")
    assert accepted(result.stdout, tmp_path / "domains").name == "Example ISP & Friends"


EXCHANGE_ONLY = b"""<clientConfig version="1.1"><emailProvider id="x.test">
<domain>x.test</domain><incomingServer type="exchange"><hostname>x.test</hostname>
<port>443</port><socketType>SSL</socketType><authentication>NTLM</authentication>
<username>%EMAILADDRESS%</username></incomingServer></emailProvider></clientConfig>"""


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<clientConfig", r"Error: <stdin>: not well-formed XML: Couldn't find end of Start Tag"
         r" clientConfig line 1, line 1, column 14 \(<string>, line 1\)"),
        (b"<html><body/></html>",
         r"Error: <stdin>: not a Thunderbird clientConfig \(no <emailProvider>\)"),
        (b"<clientConfig><emailProvider id='x'><domain>a b</domain></emailProvider></clientConfig>",
         "Error: <stdin>: no usable <domain>;"
         r" not mapped: domain 'a b' \(the domain contains a space\)"),
        (EXCHANGE_ONLY, "Error: <stdin>: no incoming server the format can express:"
         " <incomingServer type='exchange'>: the format has only imap/pop3"),
        (b" " * (1 << 20) + b"<x/>", r"Error: <stdin>: larger than 1048576 bytes"),
    ],
)
def test_xml_import_refuses_bad_input_with_a_message(xml: bytes, message: str) -> None:
    result = run_installed("import", "xml", "-", stdin=xml)
    assert result.returncode == 1
    assert re.fullmatch(message, result.stderr.strip()), result.stderr


def test_xml_import_expands_no_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (IMPORT_DATA / "everything.xml").read_text().replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0"?><!DOCTYPE clientConfig [<!ENTITY xxe SYSTEM "file://{secret}">]>',
    ).replace("Example ISP &amp; Friends", "&xxe;")
    result = run_installed("import", "xml", "-", stdin=xml.encode())
    assert result.returncode == 0, result.stderr
    assert "TOP-SECRET" not in result.stdout
    assert "\nname: example-isp.test\n" in result.stdout  # no displayName: the domain


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    with run_nsd(load_zones(TEST_DATA / "dns" / "zones"), tmp_path_factory.mktemp("nsd")) as server:
        yield server


def test_srv_import_builds_a_file_from_published_records(nsd: DnsServer, tmp_path: Path) -> None:
    result = autoconfig_cli("import", "srv", "good.test", "--nameserver", nsd.nameserver)
    assert result.returncode == 0, result.stderr
    assert "auth: password, username: %EMAILADDRESS%" in result.stdout
    assert "# mail.provider.test: not in good.test; RFC 6186 section 6" in result.stdout
    assert "# _imap._tcp may also mean no TLS at all; assumed STARTTLS (RFC 8314)" in result.stdout
    config = accepted(result.stdout, tmp_path / "domains")
    assert config.domains == ("good.test",)
    assert [(s.protocol, s.host, s.port, s.security) for s in config.incoming] == [
        (Protocol.IMAP, "mail.provider.test", 993, Security.TLS),
        (Protocol.IMAP, "mail.provider.test", 143, Security.STARTTLS),
    ]  # _pop3s/_pop3 say "not offered" (target .)
    assert [(s.port, s.security) for s in config.outgoing] == [
        (465, Security.TLS), (587, Security.STARTTLS),
    ]


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("provider.test", "Error: provider.test publishes no _imaps/_imap/_pop3s/_pop3 SRV"
         " record with a target; nothing to import"),
        ("gone.provider.test", "Error: gone.provider.test does not exist in DNS (NXDOMAIN)"),
        ("unserved.test", "Error: {nameserver} failed or refused the query for SOA of"
         " unserved.test (SERVFAIL or REFUSED: is the zone served?)"),
        ("bad domain", "Error: DOMAIN 'bad domain': the domain contains a space"),
    ],
)
def test_srv_import_without_records_is_a_clear_error(
    nsd: DnsServer, domain: str, message: str
) -> None:
    result = autoconfig_cli("import", "srv", domain, "--nameserver", nsd.nameserver)
    assert result.returncode == 1
    assert result.stderr.strip() == message.format(nameserver=nsd.nameserver)


def test_srv_priorities_span_imap_and_pop3_as_rfc_6186_says(tmp_path: Path) -> None:
    found = {
        "_imaps._tcp": [SrvTarget(10, 1, 993, "imap.example.test")],
        "_pop3s._tcp": [SrvTarget(0, 1, 995, "pop.example.test")],
        "_submission._tcp": [SrvTarget(0, 1, 587, "smtp.example.test")],
        "_submissions._tcp": [SrvTarget(0, 1, 465, "smtp.example.test")],
    }
    config = accepted(srv_to_yaml("example.test", found), tmp_path / "domains")
    assert [s.protocol for s in config.incoming] == [Protocol.POP3, Protocol.IMAP]
    assert [s.port for s in config.outgoing] == [465, 587]  # equal priority: implicit TLS first
