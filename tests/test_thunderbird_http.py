"""Thunderbird autoconfig over HTTP from the real server (gunicorn on loopback)."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.support.http import Reply, request
from tests.support.paths import TEST_DATA
from tests.support.server import RunningServer
from tests.support.thunderbird_reader import read_client_config

PATHS = ("/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml")

# What domains/example.com.yaml says, written out as an admin reads the file.
EXAMPLE_COM_INCOMING = [
    ("imap", "mail.example.com", "993", "SSL", ["password-cleartext"], "%EMAILADDRESS%"),
    ("pop3", "mail.example.com", "995", "SSL", ["password-cleartext"], "%EMAILADDRESS%"),
]
EXAMPLE_COM_OUTGOING = [
    ("smtp", "mail.example.com", "465", "SSL", ["password-cleartext"], "%EMAILADDRESS%"),
    ("smtp", "mail.example.com", "587", "STARTTLS", ["password-cleartext"], "%EMAILADDRESS%"),
]


def servers(document: etree._Element, tag: str) -> list[tuple[str, ...]]:
    """(type, hostname, port, socketType, [authentication...], username) per server."""
    return [
        (
            server.get("type"),
            server.findtext("hostname"),
            server.findtext("port"),
            server.findtext("socketType"),
            [a.text for a in server.findall("authentication")],
            server.findtext("username"),
        )
        for server in document.xpath(f"/clientConfig/emailProvider/{tag}")
    ]


def fetch(server: RunningServer, path: str, host: str | None = None, **kw: str) -> Reply:
    headers = {"Host": host} if host else {}
    query = "&".join(f"{k}={v}" for k, v in kw.items())
    return request(server.base, f"{path}?{query}" if query else path, headers=headers)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("query", "host"),
    [
        ({"emailaddress": "alice@example.com"}, None),
        ({"emailaddress": "ALICE@EXAMPLE.COM"}, None),
        ({"emailaddress": "alice%40example.com"}, None),
        ({}, "autoconfig.example.com"),
        ({}, "example.com:8000"),
        ({}, "AUTOCONFIG.Example.COM"),
    ],
)
def test_example_com_document_matches_the_domain_file(
    bundled_server: RunningServer, path: str, query: dict[str, str], host: str | None
) -> None:
    reply = fetch(bundled_server, path, host, **query)
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/xml; charset=utf-8"
    assert reply.body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    document = etree.fromstring(reply.body)
    assert document.get("version") == "1.1"
    assert document.xpath("/clientConfig/emailProvider/@id") == ["example.com"]
    assert document.xpath("/clientConfig/emailProvider/domain/text()") == ["example.com"]
    assert document.xpath("string(/clientConfig/emailProvider/displayName)") == "Example Mail"
    assert servers(document, "incomingServer") == EXAMPLE_COM_INCOMING
    assert servers(document, "outgoingServer") == EXAMPLE_COM_OUTGOING
    pop3 = document.xpath("/clientConfig/emailProvider/incomingServer[@type='pop3']/pop3")[0]
    assert pop3.findtext("leaveMessagesOnServer") == "true"
    assert pop3.findtext("daysToLeaveMessagesOnServer") == "14"
    assert document.xpath("string(/clientConfig/webMail/loginPage/@url)") == (
        "https://webmail.example.com/"
    )
    assert document.xpath("string(/clientConfig/calendar[@type='caldav']/serverURL)") == (
        "https://dav.example.com/caldav/"
    )


def test_thunderbirds_reader_accepts_and_maps_exactly_the_file(
    bundled_server: RunningServer,
) -> None:
    reply = fetch(bundled_server, PATHS[0], emailaddress="alice@example.com")
    config = read_client_config(reply.body)
    assert config.id == "example.com"
    assert config.display_name == "Example Mail"
    assert [(s.type, s.hostname, s.port, s.socket_type, s.username) for s in config.incoming] == [
        ("imap", "mail.example.com", 993, "SSL", "%EMAILADDRESS%"),
        ("pop3", "mail.example.com", 995, "SSL", "%EMAILADDRESS%"),
    ]
    assert [(s.hostname, s.port, s.socket_type) for s in config.outgoing] == [
        ("mail.example.com", 465, "SSL"),
        ("mail.example.com", 587, "alwaysSTARTTLS"),  # TB's name for STARTTLS
    ]
    assert config.skipped == ()


@pytest.mark.parametrize(
    ("address", "golden"),
    [
        ("alice@example.com", "thunderbird-example.com.xml"),
        ("bob@example.org", "thunderbird-example.org.xml"),
        ("carol@customer-one.example", "thunderbird-customer-one.example.xml"),
        ("dora@b%C3%BCcher.example", "thunderbird-xn--bcher-kva.example.xml"),
        ("dora@xn--bcher-kva.example", "thunderbird-xn--bcher-kva.example.xml"),
    ],
)
def test_bytes_match_the_golden_files(
    bundled_server: RunningServer, address: str, golden: str
) -> None:
    reply = fetch(bundled_server, PATHS[0], emailaddress=address)
    assert reply.status == 200
    assert reply.body == (TEST_DATA / "golden" / golden).read_bytes()
    read_client_config(reply.body)  # and Thunderbird accepts each of them


def test_hosting_file_keeps_placeholders_and_lists_every_domain(
    bundled_server: RunningServer,
) -> None:
    reply = fetch(bundled_server, PATHS[1], host="customer-two.example")
    document = etree.fromstring(reply.body)
    assert document.xpath("/clientConfig/emailProvider/domain/text()") == [
        "example.net", "customer-one.example", "customer-two.example"
    ]
    assert set(document.xpath("//hostname/text()")) == {"mail.%EMAILDOMAIN%"}


def test_etag_answers_if_none_match_with_304(bundled_server: RunningServer) -> None:
    first = fetch(bundled_server, PATHS[0], emailaddress="alice@example.com")
    etag = first.header("ETag")
    assert etag and first.header("Cache-Control") == "public, max-age=3600"
    again = request(
        bundled_server.base, f"{PATHS[1]}?emailaddress=bob@example.com",
        headers={"If-None-Match": etag},
    )
    assert again.status == 304 and again.body == b""
    other = fetch(bundled_server, PATHS[0], emailaddress="bob@example.org")
    assert other.header("ETag") != etag


NOT_SERVED = "no mail settings are served for"


@pytest.mark.parametrize(
    ("query", "host", "status", "message"),
    [
        ("emailaddress=alice@unknown.example", None, 404, f"{NOT_SERVED} unknown.example"),
        ("", "autoconfig.unknown.example", 404, f"{NOT_SERVED} host autoconfig.unknown.example"),
        ("", "127.0.0.1:8000", 404, f"{NOT_SERVED} host 127.0.0.1"),
        ("emailaddress=alice", None, 400, "invalid email address: the address has no '@'"),
        ("emailaddress=@example.com", None, 400, "the part before '@' is empty"),
        ("emailaddress=alice@", None, 400, "the part after '@' is empty"),
        ("emailaddress=a%20b@example.com", None, 400, "contains a space"),
        ("emailaddress=a%0d%0ab@example.com", None, 400, "contains a line break"),
        ("emailaddress=%3Cscript%3E@example.com", None, 400, "contains '<'"),
        ("emailaddress=a@exa_mple.com", None, 400, "contains '_'"),
        ("emailaddress=a@b%FF.com", None, 400, "characters that could not be read"),
        ("emailaddress=" + "a" * 300 + "@example.com", None, 400, "longer than 254 characters"),
        ("", "exa mple.com", 400, "the Host header names no domain"),
    ],
)
def test_errors_are_short_text_with_the_right_status(
    bundled_server: RunningServer, query: str, host: str | None, status: int, message: str
) -> None:
    headers = {"Host": host} if host else {}
    reply = request(bundled_server.base, f"{PATHS[0]}?{query}", headers=headers)
    assert reply.status == status
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"
    assert message in reply.text
    assert reply.header("Cache-Control") == "no-store"


def test_other_methods_are_refused_cleanly(bundled_server: RunningServer) -> None:
    reply = request(bundled_server.base, PATHS[0], method="POST", body=b"x")
    assert reply.status == 405
    assert "GET" in (reply.header("Allow") or "")


def test_access_log_holds_no_email_address(bundled_server: RunningServer) -> None:
    fetch(bundled_server, PATHS[0], emailaddress="secret.person@example.com")
    assert "secret.person" not in bundled_server.log()
    assert "GET /mail/config-v1.1.xml" in bundled_server.log()


def test_healthz(bundled_server: RunningServer) -> None:
    reply = request(bundled_server.base, "/healthz")
    assert reply.status == 200
    assert b'"domains":6' in reply.body.replace(b" ", b"")
