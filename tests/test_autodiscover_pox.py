"""Outlook Autodiscover POX from the real server (gunicorn on loopback).

Responses are checked three ways: namespace-aware XPath against what the domain
files say, exchangelib's POX parser (a real Python EWS client), and Thunderbird's
own Autodiscover reader (tests/support/thunderbird_reader.py).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest
from exchangelib.autodiscover.properties import Autodiscover
from exchangelib.errors import ErrorNonExistentMailbox
from lxml import etree
from werkzeug.test import Client

from autoconfig.address import EmailAddress
from autoconfig.answers import routes
from autoconfig.domains.records import Auth, DomainConfig, Protocol, Security, Server
from autoconfig.pox import NS_MOBILESYNC_RESPONSE, NS_OUTLOOK_RESPONSE, NS_RESPONSE
from autoconfig.render.autodiscover import (
    prepared_pox_answers,
    render_pox_personal,
    render_pox_settings,
)
from autoconfig.server.app import Application
from tests.support.cli import run_cli
from tests.support.http import Reply, request
from tests.support.paths import DOMAINS, TEST_DATA
from tests.support.pox_requests import autodiscover_request
from tests.support.server import RunningServer
from tests.support.thunderbird_reader import (
    SOCKET_SSL,
    SOCKET_STARTTLS,
    AutodiscoverErrorResponse,
    read_autodiscover_pox,
)

REQUESTS = TEST_DATA / "autodiscover" / "requests"
# What Outlook really sends (docs/autodiscover.md#discovery).
OUTLOOK_PATH = "/Autodiscover/Autodiscover.xml"
NS = {"a": NS_RESPONSE, "r": NS_OUTLOOK_RESPONSE, "m": NS_MOBILESYNC_RESPONSE}
REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
TIME = re.compile(r"^\d\d:\d\d:\d\d(\.\d+)?$")

# What domains/example.com.yaml says, as an admin reads it: one Protocol per server.
# (Type, Server, Port, LoginName, SSL, Encryption)
EXAMPLE_COM_ALICE = [
    ("IMAP", "mail.example.com", "993", "alice@example.com", "on", "SSL"),
    ("POP3", "mail.example.com", "995", "alice@example.com", "on", "SSL"),
    ("SMTP", "mail.example.com", "465", "alice@example.com", "on", "SSL"),
    ("SMTP", "mail.example.com", "587", "alice@example.com", "on", "TLS"),
]
# domains/example.org.yaml: STARTTLS only, login names without the domain.
EXAMPLE_ORG_BOB = [
    ("IMAP", "imap.example.org", "143", "bob", "on", "TLS"),
    ("IMAP", "imap.example.org", "993", "bob@example.org", "on", "SSL"),
    ("SMTP", "smtp.example.org", "587", "bob", "on", "TLS"),
    ("SMTP", "smtp.example.org", "465", "bob@example.org", "on", "SSL"),
]


def outlook_request(address: str) -> bytes:
    """An Outlook 2006a request for ``address``, built as a tree like any client does."""
    root = etree.Element(f"{{{REQUEST_NS}}}Autodiscover", nsmap={None: REQUEST_NS})  # type: ignore[dict-item]
    req = etree.SubElement(root, f"{{{REQUEST_NS}}}Request")
    etree.SubElement(req, f"{{{REQUEST_NS}}}EMailAddress").text = address
    etree.SubElement(req, f"{{{REQUEST_NS}}}AcceptableResponseSchema").text = NS_OUTLOOK_RESPONSE
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def post(
    server: RunningServer, body: bytes, *, path: str = OUTLOOK_PATH,
    headers: dict[str, str] | None = None,
) -> Reply:
    return request(
        server.base, path, method="POST", body=body,
        headers={"Host": "autodiscover.example.com", "Content-Type": "text/xml", **(headers or {})},
    )


def xml(reply: Reply) -> etree._Element:
    assert reply.header("Content-Type") == "text/xml; charset=utf-8"
    return etree.fromstring(reply.body)


def protocols(document: etree._Element) -> list[tuple[str | None, ...]]:
    """(Type, Server, Port, LoginName, SSL, Encryption) per Protocol, in document order."""
    names = ("Type", "Server", "Port", "LoginName", "SSL", "Encryption")
    return [
        tuple(p.findtext(f"r:{name}", namespaces=NS) for name in names)
        for p in document.xpath("/a:Autodiscover/r:Response/r:Account/r:Protocol", namespaces=NS)
    ]


def error_code(document: etree._Element, namespace: str = "a") -> str | None:
    path = f"/a:Autodiscover/{namespace}:Response/{namespace}:Error/{namespace}:ErrorCode"
    found = document.xpath(path, namespaces=NS)
    return found[0].text if found else None


def test_outlook_request_gets_the_domain_files_settings(bundled_server: RunningServer) -> None:
    reply = post(bundled_server, (REQUESTS / "outlook-alice.xml").read_bytes())
    assert reply.status == 200
    assert reply.header("Cache-Control") == "no-store"
    document = xml(reply)
    # Namespaces exactly as docs/autodiscover.md#settings-response: default on
    # Autodiscover, re-declared on Response.
    assert document.tag == f"{{{NS_RESPONSE}}}Autodiscover"
    assert document.nsmap == {None: NS_RESPONSE}
    response = document[0]
    assert response.tag == f"{{{NS_OUTLOOK_RESPONSE}}}Response"
    assert response.nsmap[None] == NS_OUTLOOK_RESPONSE
    account = "/a:Autodiscover/r:Response/r:Account"
    assert document.xpath(f"{account}/r:AccountType/text()", namespaces=NS) == ["email"]
    assert document.xpath(f"{account}/r:Action/text()", namespaces=NS) == ["settings"]
    assert protocols(document) == EXAMPLE_COM_ALICE
    for protocol in document.xpath(f"{account}/r:Protocol", namespaces=NS):
        assert protocol.findtext("r:SPA", namespaces=NS) == "off"
        assert protocol.findtext("r:AuthRequired", namespaces=NS) == "on"
        assert protocol.findtext("r:DomainRequired", namespaces=NS) == "off"
        assert protocol.findtext("r:TTL", namespaces=NS) == "1"
        smtp = protocol.findtext("r:Type", namespaces=NS) == "SMTP"
        assert (protocol.findtext("r:UsePOPAuth", namespaces=NS) == "on") is smtp
        assert (protocol.findtext("r:SMTPLast", namespaces=NS) == "off") is smtp
    # Nothing of the request but the validated address: no User/DisplayName echo.
    assert not document.xpath("//r:User", namespaces=NS)


def test_exchangelib_reads_the_settings(bundled_server: RunningServer) -> None:
    reply = post(bundled_server, outlook_request("alice@example.com"))
    parsed = Autodiscover.from_bytes(reply.body)
    assert parsed.error_response is None
    account = parsed.response.account
    assert (account.type, account.action) == ("email", "settings")
    seen = [
        (p.type, p.server, p.port, p.login_name, p.ssl, p.spa, p.auth_required, p.ttl)
        for p in account.protocols
    ]
    assert seen == [
        ("IMAP", "mail.example.com", 993, "alice@example.com", True, False, True, 1),
        ("POP3", "mail.example.com", 995, "alice@example.com", True, False, True, 1),
        ("SMTP", "mail.example.com", 465, "alice@example.com", True, False, True, 1),
        ("SMTP", "mail.example.com", 587, "alice@example.com", True, False, True, 1),
    ]


@pytest.mark.parametrize(
    ("address", "incoming", "outgoing"),
    [
        ("alice@example.com", [("imap", 993, SOCKET_SSL), ("pop3", 995, SOCKET_SSL)],
         [("smtp", 465, SOCKET_SSL), ("smtp", 587, SOCKET_STARTTLS)]),
        ("bob@example.org", [("imap", 143, SOCKET_STARTTLS), ("imap", 993, SOCKET_SSL)],
         [("smtp", 587, SOCKET_STARTTLS), ("smtp", 465, SOCKET_SSL)]),
    ],
)
def test_thunderbird_reads_the_settings(
    bundled_server: RunningServer,
    address: str,
    incoming: list[tuple[str, int, str]],
    outgoing: list[tuple[str, int, str]],
) -> None:
    # Thunderbird's own request: lower-case path, charset, Basic auth
    # (docs/autodiscover.md#discovery).
    token = base64.b64encode(f"{address}:hunter2".encode()).decode()
    reply = post(
        bundled_server, outlook_request(address), path="/autodiscover/autodiscover.xml",
        headers={"Content-Type": "text/xml; charset=utf-8", "Authorization": f"Basic {token}"},
    )
    result = read_autodiscover_pox(reply.body)
    assert result.action == "settings"
    assert [(s.type, s.port, s.socket_type) for s in result.incoming] == incoming
    assert [(s.type, s.port, s.socket_type) for s in result.outgoing] == outgoing
    # example.org: the local part on its STARTTLS servers, the address on the others
    local = address.endswith("example.org")
    logins = [address.partition("@")[0] if local and s.socket_type == SOCKET_STARTTLS
              else address for s in (*result.incoming, *result.outgoing)]
    assert [s.username for s in (*result.incoming, *result.outgoing)] == logins
    assert {s.auth for s in (*result.incoming, *result.outgoing)} == {"passwordCleartext"}


def test_starttls_comes_out_as_ssl_on_encryption_tls(bundled_server: RunningServer) -> None:
    document = xml(post(bundled_server, outlook_request("bob@example.org")))
    assert protocols(document) == EXAMPLE_ORG_BOB
    # example.org prefers password-encrypted (CRAM-MD5), which is not Outlook's SPA.
    assert document.xpath("//r:SPA/text()", namespaces=NS) == ["off"] * 4


@pytest.mark.parametrize(
    "path",
    [
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
        "/AUTODISCOVER/AUTODISCOVER.XML",
        "/autoDiscover/AutoDiscover.Xml",
    ],
)
@pytest.mark.parametrize("content_type", ["text/xml", "text/xml; charset=utf-8", "application/xml"])
def test_path_in_any_letter_case(
    bundled_server: RunningServer, path: str, content_type: str
) -> None:
    reply = post(
        bundled_server, outlook_request("alice@example.com"), path=path,
        headers={"Content-Type": content_type},
    )
    assert reply.status == 200
    assert protocols(xml(reply)) == EXAMPLE_COM_ALICE


def test_post_without_content_type_is_tolerated(bundled_server: RunningServer) -> None:
    reply = request(
        bundled_server.base, OUTLOOK_PATH, method="POST", body=outlook_request("alice@example.com")
    )
    assert reply.header("Content-Type") == "text/xml; charset=utf-8"
    assert reply.status == 200


def test_hosted_customer_domain_gets_its_own_host_names(bundled_server: RunningServer) -> None:
    document = xml(post(bundled_server, outlook_request("Carol@Customer-One.example")))
    assert protocols(document) == [
        ("IMAP", "mail.customer-one.example", "993", "Carol@customer-one.example", "on", "SSL"),
        ("POP3", "mail.customer-one.example", "995", "Carol@customer-one.example", "on", "SSL"),
        ("SMTP", "mail.customer-one.example", "465", "Carol@customer-one.example", "on", "SSL"),
    ]


def test_idn_address(bundled_server: RunningServer) -> None:
    document = xml(post(bundled_server, outlook_request("alice@Bücher.example")))
    # bücher.example offers [oauth2, password]: POX cannot say OAuth2, so password settings.
    assert protocols(document) == [
        ("IMAP", "mail.xn--bcher-kva.example", "993", "alice@xn--bcher-kva.example", "on", "SSL"),
        ("SMTP", "mail.xn--bcher-kva.example", "465", "alice@xn--bcher-kva.example", "on", "SSL"),
    ]


def test_legacy_dn_is_ignored_for_the_address(bundled_server: RunningServer) -> None:
    reply = post(bundled_server, (REQUESTS / "legacydn-and-address.xml").read_bytes())
    assert protocols(xml(reply)) == EXAMPLE_COM_ALICE


def test_unknown_domain_is_error_500_with_http_200(bundled_server: RunningServer) -> None:
    reply = post(bundled_server, (REQUESTS / "unknown-domain.xml").read_bytes())
    # docs/autodiscover.md#errors: the client reads the error, not "next URL".
    assert reply.status == 200
    document = xml(reply)
    assert error_code(document) == "500"
    error = document.xpath("/a:Autodiscover/a:Response/a:Error", namespaces=NS)[0]
    assert TIME.match(error.get("Time"))
    assert error.get("Id").isdigit()
    assert error.findtext("a:Message", namespaces=NS) == "The email address can't be found."
    assert b"not-served" not in reply.body
    with pytest.raises(ErrorNonExistentMailbox):
        Autodiscover.from_bytes(reply.body).raise_errors()
    with pytest.raises(AutodiscoverErrorResponse) as caught:
        read_autodiscover_pox(reply.body)
    assert caught.value.code == "500"


def test_error_id_is_stable_and_time_is_now(bundled_server: RunningServer) -> None:
    body = (REQUESTS / "unknown-schema.xml").read_bytes()
    before = datetime.now(UTC)
    errors = [
        xml(post(bundled_server, body)).xpath("//a:Error", namespaces=NS)[0] for _ in range(4)
    ]
    assert len({e.get("Id") for e in errors}) == 1  # the same from every worker
    for error in errors:
        stamp = datetime.strptime(error.get("Time"), "%H:%M:%S.%f").time()
        moment = datetime.combine(before.date(), stamp, tzinfo=UTC)
        assert abs((moment - before).total_seconds()) < 5


def test_unknown_schema_is_601(bundled_server: RunningServer) -> None:
    reply = post(bundled_server, (REQUESTS / "unknown-schema.xml").read_bytes())
    assert reply.status == 200
    document = xml(reply)
    assert error_code(document) == "601"
    assert b"2099z" not in reply.body
    parsed = Autodiscover.from_bytes(reply.body)
    assert parsed.error_response.error.code == "601"


def test_activesync_request_gets_601_in_the_mobilesync_shape(
    bundled_server: RunningServer,
) -> None:
    reply = post(bundled_server, (REQUESTS / "mobilesync.xml").read_bytes())
    assert reply.status == 200
    document = xml(reply)
    # MS-ASCMD 4.2.4 (docs/autodiscover.md#activesync): Response re-declared in the
    # mobilesync namespace.
    assert document[0].nsmap[None] == NS_MOBILESYNC_RESPONSE
    assert error_code(document, "m") == "601"
    assert not document.xpath("//r:*", namespaces=NS)  # never the Outlook 2006a payload


def test_get_answers_for_the_host_domain_without_login_names(
    bundled_server: RunningServer,
) -> None:
    # Delta Chat: GET, no body, on <domain> or autodiscover.<domain>.
    for host in ("autodiscover.example.com", "example.com", "AutoDiscover.Example.COM:443"):
        reply = request(bundled_server.base, OUTLOOK_PATH.lower(), headers={"Host": host})
        assert reply.status == 200
        assert "public" in (reply.header("Cache-Control") or "")
        document = xml(reply)
        assert [p[:3] for p in protocols(document)] == [p[:3] for p in EXAMPLE_COM_ALICE]
        assert not document.xpath("//r:LoginName", namespaces=NS)  # %EMAILADDRESS% per user
    result = read_autodiscover_pox(reply.body)
    assert result.incoming[0].username == "%EMAILADDRESS%"  # Thunderbird fills it in


def test_get_expands_the_hosts_domain(bundled_server: RunningServer) -> None:
    reply = request(
        bundled_server.base, OUTLOOK_PATH, headers={"Host": "autodiscover.customer-two.example"}
    )
    servers = {p[1] for p in protocols(xml(reply))}
    assert servers == {"mail.customer-two.example"}


@pytest.mark.parametrize(
    "host", ["autodiscover.not-served.example", "127.0.0.1", "[::1]:80", "bad host!", ""]
)
def test_get_for_a_host_not_served_is_error_500(bundled_server: RunningServer, host: str) -> None:
    reply = request(bundled_server.base, OUTLOOK_PATH, headers={"Host": host})
    assert reply.status == 200
    assert error_code(xml(reply)) == "500"
    assert reply.header("Cache-Control") == "no-store"
    if host:
        assert host.encode() not in reply.body


def test_credentials_and_bodies_are_never_logged(bundled_server: RunningServer) -> None:
    password = "S3cret-Passw0rd-in-log-test"  # noqa: S105 - a canary, not a secret
    token = base64.b64encode(f"dave@example.com:{password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    post(bundled_server, outlook_request("dave@example.com"), headers=headers)
    post(bundled_server, b"<broken LOG-CANARY", headers=headers)
    request(bundled_server.base, OUTLOOK_PATH, headers={"Host": "example.com", **headers})
    log = bundled_server.log()
    assert "POST /Autodiscover/Autodiscover.xml" in log  # the access log is on
    for secret in (password, token, "dave@example.com", "LOG-CANARY"):
        assert secret not in log


def test_cli_render_outlook_prints_the_bytes_the_server_sends(
    bundled_server: RunningServer,
) -> None:
    served = post(bundled_server, outlook_request("alice@example.com")).body
    printed = run_cli("render", "outlook", "alice@example.com", "--domains", str(DOMAINS))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout_bytes == served


@pytest.mark.parametrize(
    ("address", "message"),
    [("alice@not-served.example", "no domain file serves not-served.example"),
     ("no-at-sign", "the address has no '@'")],
)
def test_cli_render_outlook_refuses_cleanly(address: str, message: str) -> None:
    result = run_cli("render", "outlook", address, "--domains", str(DOMAINS))
    # docs/cli.md: 1 for bad input, with a message.
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


# --- the renderer's mapping tables, for values the bundled files do not use -------------


def _config(server: Server) -> DomainConfig:
    smtp = Server(Protocol.SMTP, "smtp.example.test", 25, Security.NONE, (Auth.NONE,), "relay")
    return DomainConfig("test.yaml", "Test", None, ("example.test",), (server,), (smtp,))


@pytest.mark.parametrize(
    ("auth", "security", "expected"),
    [
        ((Auth.NTLM, Auth.PASSWORD), Security.TLS, ("on", "on", "SSL", "on")),
        ((Auth.GSSAPI,), Security.STARTTLS, ("on", "on", "TLS", "on")),
        ((Auth.OAUTH2, Auth.NTLM), Security.TLS, ("on", "on", "SSL", "on")),
        ((Auth.OAUTH2,), Security.TLS, ("off", "on", "SSL", "on")),
        ((Auth.PASSWORD_ENCRYPTED,), Security.NONE, ("off", "off", "None", "on")),
        ((Auth.NONE,), Security.NONE, ("off", "off", "None", "off")),
    ],
)
def test_spa_ssl_encryption_and_auth_required(
    auth: tuple[Auth, ...], security: Security, expected: tuple[str, str, str, str]
) -> None:
    server = Server(Protocol.IMAP, "imap.example.test", 143, security, auth, "literal-user")
    document = etree.fromstring(render_pox_settings(_config(server), "example.test"))
    imap = document.xpath("//r:Protocol[r:Type='IMAP']", namespaces=NS)[0]
    names = ("SPA", "SSL", "Encryption", "AuthRequired")
    assert tuple(imap.findtext(f"r:{n}", namespaces=NS) for n in names) == expected
    # A literal login name is the same for everyone, so a domain-only answer keeps it.
    assert imap.findtext("r:LoginName", namespaces=NS) == "literal-user"
    smtp = document.xpath("//r:Protocol[r:Type='SMTP']", namespaces=NS)[0]
    assert smtp.findtext("r:AuthRequired", namespaces=NS) == "off"
    assert smtp.findtext("r:UsePOPAuth", namespaces=NS) == "off"


def test_a_per_user_record_is_answered_whole_and_never_enters_the_prepared_answers() -> None:
    # The directory's login (DomainConfig.with_login) makes both logins equal, which turns
    # UsePOPAuth on; the domain's prepared answer (logins differ) must stay as it is.
    imap = Server(Protocol.IMAP, "imap.example.test", 993, Security.TLS, (Auth.PASSWORD,),
                  "%EMAILADDRESS%")
    smtp = Server(Protocol.SMTP, "smtp.example.test", 465, Security.TLS, (Auth.PASSWORD,),
                  "%EMAILLOCALPART%")
    config = DomainConfig("test.yaml", "Test", None, ("example.test",), (imap,), (smtp,))
    address = EmailAddress("jane", "example.test")

    def logins_and_pop_auth(body: bytes) -> tuple[list[str], str]:
        document = etree.fromstring(body)
        return (document.xpath("//r:LoginName/text()", namespaces=NS),
                "".join(document.xpath("//r:Protocol[r:Type='SMTP']/r:UsePOPAuth/text()",
                                       namespaces=NS)))

    domain_answer = render_pox_settings(config, "example.test", address)
    assert logins_and_pop_auth(domain_answer) == (["jane@example.test", "jane"], "off")
    prepared = prepared_pox_answers()
    personal = render_pox_personal(config.with_login("u4711"), "example.test", address)
    assert logins_and_pop_auth(personal) == (["u4711", "u4711"], "on")
    assert prepared_pox_answers() == prepared
    assert render_pox_settings(config, "example.test", address) == domain_answer


# --- the prepared answers: per-user parts filled in per request --------------------------


def _templated(imap_login: str, smtp_login: str | None) -> DomainConfig:
    imap = Server(Protocol.IMAP, "imap.%EMAILDOMAIN%", 993, Security.TLS, (Auth.PASSWORD,),
                  imap_login)
    smtp_auth = (Auth.PASSWORD,) if smtp_login is not None else (Auth.NONE,)
    smtp = Server(Protocol.SMTP, "smtp.example.test", 465, Security.TLS, smtp_auth, smtp_login)
    return DomainConfig("test.yaml", "Test", None, ("example.test",), (imap,), (smtp,))


@pytest.mark.parametrize(
    ("imap_login", "smtp_login"),
    [
        ("%EMAILADDRESS%", "%EMAILLOCALPART%"),
        ("x<&>y-%EMAILLOCALPART%", "literal & <literal>"),  # escaped as lxml escapes
        ("tab\there-%EMAILLOCALPART%", "%EMAILADDRESS%"),  # not plain text: built whole
        ("%EMAILLOCALPART%", None),  # an outgoing server without a login name
    ],
)
def test_a_prepared_answer_is_the_whole_answer_for_each_user(
    imap_login: str, smtp_login: str | None
) -> None:
    config = _templated(imap_login, smtp_login)
    addresses = [EmailAddress(local, domain)
                 for local in ("jane", "j&ne", "jürgen", "o'neil", "x%EMAILDOMAIN%")
                 for domain in ("example.test", "customer.test")]
    for address in addresses * 2:  # the second round answers from the prepared parts
        whole = render_pox_personal(config, address.domain, address)
        assert render_pox_settings(config, address.domain, address) == whole


def test_one_users_login_never_shows_in_anothers_answer() -> None:
    config = _templated("%EMAILADDRESS%", "%EMAILLOCALPART%")
    jane = render_pox_settings(config, "example.test", EmailAddress("jane", "example.test"))
    john = render_pox_settings(config, "example.test", EmailAddress("john", "example.test"))
    assert b"john" not in jane
    assert b"jane" not in john
    logins = etree.fromstring(john).xpath("//r:LoginName/text()", namespaces=NS)
    assert logins == ["john@example.test", "john"]


def test_an_edited_record_gets_its_own_prepared_answer() -> None:
    before = _templated("%EMAILADDRESS%", "%EMAILLOCALPART%")
    address = EmailAddress("jane", "example.test")
    old_answer = render_pox_settings(before, "example.test", address)
    moved = Server(Protocol.IMAP, "imap2.example.test", 143, Security.STARTTLS,
                   (Auth.PASSWORD,), "%EMAILLOCALPART%")
    after = DomainConfig("test.yaml", "Test", None, ("example.test",), (moved,), before.outgoing)
    new_answer = render_pox_settings(after, "example.test", address)
    document = etree.fromstring(new_answer)
    assert document.xpath("//r:Protocol[r:Type='IMAP']/r:Server/text()", namespaces=NS) == [
        "imap2.example.test"]
    assert new_answer == render_pox_personal(after, "example.test", address)
    assert render_pox_settings(before, "example.test", address) == old_answer


# Content-Type values as Outlook, Thunderbird and ActiveSync send them, and none at all.
CLIENT_CONTENT_TYPES = (
    "", "text/xml", "application/xml", "text/xml; charset=utf-8", "text/xml; charset=UTF-8",
    "text/xml;charset=utf-8", "application/xml; charset=utf-8",
)


@pytest.mark.parametrize("content_type", CLIENT_CONTENT_TYPES)
def test_every_content_type_clients_send_is_answered(client: Client, content_type: str) -> None:
    body = autodiscover_request("alice@example.com")
    headers = {"Content-Type": content_type} if content_type else {}
    reply = client.post("/autodiscover/autodiscover.xml", data=body, headers=headers)
    assert reply.status_code == 200
    assert b"<Server>mail.example.com</Server>" in reply.data


@pytest.mark.parametrize("path", [
    "/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
    "/AUTODISCOVER/autodiscover.XML",
])
def test_every_spelling_reaches_the_same_route(app: Application, path: str) -> None:
    matched = app.front.match(path)
    assert matched is not None
    assert matched[0] is routes.POX
