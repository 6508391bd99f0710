"""Groupware endpoints (EWS, OWA, ActiveSync, JMAP) from domain files, read by real readers.

The server runs from the installed wheel on loopback with tests/data/groupware: a Gromox
site (EWS, OWA, ActiveSync, JMAP), a SOGo site (EWS on port 8443, logins without the
domain) and a plain IMAP site. What the answers say is checked with Thunderbird's readers
(before and from 150), exchangelib's POX parser and Apple's payload schema.
"""

from __future__ import annotations

import json
import plistlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from exchangelib.autodiscover.properties import Autodiscover
from lxml import etree

from autoconfig.domains.load import display_path, load_file
from autoconfig.pox import NS_MOBILESYNC_RESPONSE, NS_OUTLOOK_RESPONSE, NS_RESPONSE
from tests.support.apple_schema import profile_problems
from tests.support.cli import run_cli
from tests.support.http import Reply, request
from tests.support.paths import TEST_DATA
from tests.support.pox_requests import autodiscover_request
from tests.support.server import RunningServer, run_server
from tests.support.thunderbird_reader import (
    AUTH_CLEARTEXT,
    MSG_NOT_ALLOWED,
    SOCKET_SSL,
    SOCKET_STARTTLS,
    AutodiscoverErrorResponse,
    SkippedServer,
    read_autodiscover_pox,
    read_client_config,
)

GROUPWARE = TEST_DATA / "groupware"
GROMOX_EWS = "https://mail.gromox.example/EWS/Exchange.asmx"
GROMOX_OWA = "https://mail.gromox.example/web/"
GROMOX_EAS = "https://mail.gromox.example/Microsoft-Server-ActiveSync"
SOGO_EWS = "https://sogo.example:8443/SOGo/EWS/Exchange.asmx"
POX_PATH = "/Autodiscover/Autodiscover.xml"
NS = {"a": NS_RESPONSE, "r": NS_OUTLOOK_RESPONSE, "m": NS_MOBILESYNC_RESPONSE}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    log_path = tmp_path_factory.mktemp("groupware") / "server.log"
    with run_server(GROUPWARE, log_path) as running:
        yield running


def post(server: RunningServer, body: bytes) -> Reply:
    return request(
        server.base, POX_PATH, method="POST", body=body, headers={"Content-Type": "text/xml"}
    )


def autoconfig_xml(server: RunningServer, address: str) -> bytes:
    reply = request(server.base, f"/mail/config-v1.1.xml?emailaddress={address}")
    assert reply.status == 200
    return reply.body


# --- domain files -------------------------------------------------------------------------


def test_the_file_keeps_each_url() -> None:
    loaded = load_file(GROUPWARE / "gromox.example.yaml").loaded
    assert loaded is not None
    config = loaded.config
    assert (config.ews, config.owa, config.activesync, config.jmap) == (
        GROMOX_EWS, GROMOX_OWA, GROMOX_EAS, "https://mail.gromox.example/.well-known/jmap",
    )


def test_a_url_that_is_not_http_is_an_error(tmp_path: Path) -> None:
    text = (GROUPWARE / "plain.example.yaml").read_text() + "ews: ftp://mail.plain.example/\n"
    (tmp_path / "plain.example.yaml").write_text(text)
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{tmp_path}/plain.example.yaml:11: ews: expected an http:// or https:// URL;"
        " got 'ftp://mail.plain.example/'"
    )


def test_check_warns_where_phones_will_not_follow_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.example.yaml").write_text(
        (GROUPWARE / "plain.example.yaml").read_text().replace("plain.example", "a.example")
        + "activesync: https://mail.a.example/EWS/Exchange.asmx\nowa: https://mail.a.example/\n"
    )
    # The warnings about the groupware keys (the files' STARTTLS servers also get PACC's
    # warnings, which tests/test_pacc.py covers).
    groupware_keys = tuple(f": warning: {key}: " for key in ("ews", "owa", "activesync", "jmap"))
    warnings = [
        line
        for folder in (tmp_path, GROUPWARE)
        for line in run_cli("check", str(folder)).stdout.splitlines()
        if any(key in line for key in groupware_keys)
    ]
    assert warnings == [
        f"{tmp_path}/a.example.yaml:11: warning: activesync: https://mail.a.example/EWS/"
        "Exchange.asmx looks like an EWS URL, not ActiveSync; Autodiscover's ASUrl is the"
        " Availability service (EWS), not ActiveSync, which lives at"
        " /Microsoft-Server-ActiveSync",
        f"{tmp_path}/a.example.yaml:12: warning: owa: owa without ews: Thunderbird reads the"
        " Autodiscover answer as an Exchange account with no EWS URL, which only an add-on"
        " can use; add ews if the server speaks it",
        f"{display_path(GROUPWARE)}/sogo.example.yaml:16: warning: activesync: Android and iOS"
        " ActiveSync clients use only the host and always the path /Microsoft-Server-ActiveSync;"
        " /SOGo/Microsoft-Server-ActiveSync needs a rewrite to it on the server",
    ]


# --- Thunderbird autoconfig -----------------------------------------------------------------


def test_thunderbird_150_offers_ews_after_imap(server: RunningServer) -> None:
    config = read_client_config(autoconfig_xml(server, "ann@gromox.example"), version=150)
    assert [(s.type, s.hostname, s.port, s.socket_type, s.auth, s.username, s.exchange_url)
            for s in config.incoming] == [
        ("imap", "mail.gromox.example", 993, SOCKET_SSL, AUTH_CLEARTEXT, "%EMAILADDRESS%", None),
        ("ews", "mail.gromox.example", 443, SOCKET_SSL, AUTH_CLEARTEXT, "%EMAILADDRESS%",
         GROMOX_EWS),
    ]
    assert [(s.hostname, s.port, s.socket_type) for s in config.outgoing] == [
        ("mail.gromox.example", 587, SOCKET_STARTTLS),
    ]
    assert config.skipped == ()


def test_thunderbird_150_reads_an_ews_url_with_its_own_port(server: RunningServer) -> None:
    config = read_client_config(autoconfig_xml(server, "bo@sogo.example"), version=150)
    ews = config.incoming[1]
    # URL.host is "sogo.example:8443", which the hostname check refuses: <hostname> and
    # <port> carry the server, the URL stays whole
    assert (ews.type, ews.hostname, ews.port, ews.username, ews.exchange_url) == (
        "ews", "sogo.example", 8443, "%EMAILLOCALPART%", SOGO_EWS,
    )


def test_older_thunderbird_skips_ews_and_keeps_the_rest(server: RunningServer) -> None:
    config = read_client_config(autoconfig_xml(server, "ann@gromox.example"), version=140)
    assert [(s.type, s.hostname) for s in config.incoming] == [("imap", "mail.gromox.example")]
    assert config.skipped == (
        SkippedServer("incoming", 1, f"{MSG_NOT_ALLOWED} (bad value: 'ews')"),
    )


def test_a_file_without_groupware_has_no_ews_server(server: RunningServer) -> None:
    config = read_client_config(autoconfig_xml(server, "cy@plain.example"), version=150)
    assert [s.type for s in config.incoming] == ["imap"]


# --- Outlook POX, exchangelib, Thunderbird's Autodiscover step ------------------------------


def test_pox_names_ews_and_owa_where_exchangelib_finds_them(server: RunningServer) -> None:
    reply = post(server, autodiscover_request("ann@gromox.example"))
    assert reply.status == 200
    parsed = Autodiscover.from_bytes(reply.body)
    assert parsed.error_response is None
    response = parsed.response
    assert response.protocol.ews_url == GROMOX_EWS  # exchangelib: EXPR, else EXCH
    assert [p.type for p in response.account.protocols] == ["WEB", "EXCH", "IMAP", "SMTP"]
    web = response.account.protocols[0]
    assert web.external.owa_url == GROMOX_OWA


def test_thunderbird_autodiscover_reads_exchange_first_and_imap_as_alternative(
    server: RunningServer,
) -> None:
    result = read_autodiscover_pox(post(server, autodiscover_request("ann@gromox.example")).body)
    exchange, imap = result.incoming
    assert (exchange.type, exchange.hostname, exchange.port, exchange.socket_type) == (
        "exchange", "mail.gromox.example", 443, SOCKET_SSL,
    )
    assert (exchange.exchange_url, exchange.owa_url) == (GROMOX_EWS, GROMOX_OWA)
    assert (imap.type, imap.hostname, imap.port, imap.username) == (
        "imap", "mail.gromox.example", 993, "ann@gromox.example",
    )
    assert result.skipped == ()


def test_pox_without_groupware_has_only_mail_protocols(server: RunningServer) -> None:
    document = etree.fromstring(post(server, autodiscover_request("cy@plain.example")).body)
    assert document.xpath("//r:Protocol/r:Type/text()", namespaces=NS) == ["IMAP", "SMTP"]


# --- ActiveSync Autodiscover and v2 -------------------------------------------------------


def test_activesync_request_gets_the_mobilesync_settings(server: RunningServer) -> None:
    reply = post(server, autodiscover_request("ann@gromox.example", mobilesync=True))
    assert (reply.status, reply.header("Content-Type")) == (200, "text/xml; charset=utf-8")
    document = etree.fromstring(reply.body)
    assert etree.QName(document[0]).namespace == NS_MOBILESYNC_RESPONSE
    found = document.xpath("/a:Autodiscover/m:Response/m:Action/m:Settings/m:Server",
                           namespaces=NS)
    assert len(found) == 1
    assert [(etree.QName(e).localname, e.text) for e in found[0]] == [
        ("Type", "MobileSync"), ("Url", GROMOX_EAS), ("Name", GROMOX_EAS),
    ]
    assert document.xpath("//m:User/m:EMailAddress/text()", namespaces=NS) == [
        "ann@gromox.example"
    ]


def test_activesync_request_without_activesync_gets_601(server: RunningServer) -> None:
    reply = post(server, autodiscover_request("cy@plain.example", mobilesync=True))
    assert reply.status == 200
    document = etree.fromstring(reply.body)
    assert document.xpath("//m:Error/m:ErrorCode/text()", namespaces=NS) == ["601"]
    with pytest.raises(AutodiscoverErrorResponse, match="601"):
        read_autodiscover_pox(reply.body)


@pytest.mark.parametrize(
    ("protocol", "answer"),
    [
        ("ActiveSync", {"Protocol": "ActiveSync", "Url": GROMOX_EAS}),
        ("activesync", {"Protocol": "ActiveSync", "Url": GROMOX_EAS}),
        ("Ews", {"Protocol": "Ews", "Url": GROMOX_EWS}),
        ("AutodiscoverV1", {
            "Protocol": "AutodiscoverV1",
            "Url": "https://autodiscover.gromox.example/autodiscover/autodiscover.xml",
        }),
    ],
)
def test_v2_answers_each_protocol_the_file_has(
    server: RunningServer, protocol: str, answer: dict[str, str]
) -> None:
    reply = request(
        server.base, f"/autodiscover/autodiscover.json/v1.0/ann@gromox.example?Protocol={protocol}"
    )
    assert (reply.status, json.loads(reply.body)) == (200, answer)


def test_v2_refuses_activesync_where_the_file_has_none(server: RunningServer) -> None:
    reply = request(
        server.base, "/autodiscover/autodiscover.json?Email=cy@plain.example&Protocol=ActiveSync"
    )
    assert (reply.status, json.loads(reply.body)) == (400, {
        "ErrorCode": "InvalidProtocol",
        "ErrorMessage": "The given protocol value 'ActiveSync' is invalid. Supported values"
        " are 'AutodiscoverV1'",
    })


# --- Apple ----------------------------------------------------------------------------------


def test_apple_activesync_profile_passes_apples_schema(server: RunningServer) -> None:
    reply = request(
        server.base, "/apple/profile.mobileconfig?emailaddress=bo@sogo.example&protocol=activesync"
    )
    assert reply.status == 200
    profile = plistlib.loads(reply.body)
    assert profile_problems(profile) == []
    (payload,) = profile["PayloadContent"]
    assert {k: payload[k] for k in ("PayloadType", "EmailAddress", "Host", "SSL", "UserName")} == {
        "PayloadType": "com.apple.eas.account",
        "EmailAddress": "bo@sogo.example",
        "Host": "sogo.example",
        "SSL": True,
        "UserName": "bo",
    }


def test_apple_page_links_the_activesync_profile(server: RunningServer) -> None:
    page = request(server.base, "/apple?emailaddress=ann@gromox.example").text
    assert (
        '<a class="button" href="/apple/profile.mobileconfig?emailaddress=ann@gromox.example'
        '&amp;protocol=activesync&amp;lang=en" download>Download the Exchange ActiveSync'
        " profile (iPhone, iPad)</a>"
    ) in page
    plain = request(server.base, "/apple?emailaddress=cy@plain.example").text
    assert "Exchange ActiveSync" not in plain


def test_the_activesync_link_and_profile_speak_the_page_language(server: RunningServer) -> None:
    page = request(server.base, "/apple?emailaddress=ann@gromox.example",
                   headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert (
        '<a class="button" href="/apple/profile.mobileconfig?emailaddress=ann@gromox.example'
        '&amp;protocol=activesync&amp;lang=de" download>Exchange-ActiveSync-Profil laden'
        " (iPhone, iPad)</a>"
    ) in page
    reply = request(server.base, "/apple/profile.mobileconfig?emailaddress=bo@sogo.example"
                    "&protocol=activesync&lang=de")
    (payload,) = plistlib.loads(reply.body)["PayloadContent"]
    assert payload["PayloadDescription"] == (
        "Das Exchange-ActiveSync-Konto bo@sogo.example bei SOGo Example."
    )
    refused = request(server.base, "/apple?emailaddress=cy@plain.example&protocol=activesync"
                      "&lang=fr")
    assert refused.status == 404
    assert "Plain Example ne propose pas de serveur Exchange ActiveSync." in refused.text


def test_the_imap_profile_stays_without_an_eas_payload(server: RunningServer) -> None:
    reply = request(server.base, "/apple/profile.mobileconfig?emailaddress=ann@gromox.example")
    profile = plistlib.loads(reply.body)
    assert profile_problems(profile) == []
    assert [p["PayloadType"] for p in profile["PayloadContent"]] == ["com.apple.mail.managed"]


def test_cli_renders_the_activesync_profile_the_server_sends(server: RunningServer) -> None:
    query = "emailaddress=bo@sogo.example&protocol=activesync"
    served = request(server.base, f"/apple/profile.mobileconfig?{query}").body
    result = run_cli("render", "apple", "bo@sogo.example", "--protocol", "activesync",
                     "--domains", str(GROUPWARE))
    assert result.returncode == 0
    assert result.stdout_bytes == served
    refused = run_cli("render", "apple", "cy@plain.example", "--protocol", "activesync",
                      "--domains", str(GROUPWARE))
    assert refused.stderr.splitlines()[-1] == (
        "Error: Plain Example offers no Exchange ActiveSync server"
    )
