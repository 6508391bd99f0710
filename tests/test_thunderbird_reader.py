"""The Thunderbird oracle (tests/support/thunderbird_reader/) against real and crafted XML.

The real files are Thunderbird's own ISP database (vendored in tests/data/ispdb):
Thunderbird accepts every one of them, so the oracle must too, with the
servers exactly as written.
The crafted documents pin rules read in Thunderbird's readFromXML.sys.mjs,
Sanitizer.sys.mjs, ExchangeAutoDiscover.sys.mjs and OAuth2Providers.sys.mjs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from autoconfig.render.thunderbird_oauth import (
    THUNDERBIRD_OAUTH2_HOSTNAMES,
    thunderbird_oauth2_issuer,
)
from tests.support.paths import ISPDB
from tests.support.thunderbird_reader import (
    AUTH_CLEARTEXT,
    AUTH_ENCRYPTED,
    AUTH_NONE,
    AUTH_OAUTH2,
    AUTH_SECURE,
    MSG_HOSTNAME,
    MSG_NO_AUTODISCOVER,
    MSG_NO_EMAIL_PROVIDER,
    MSG_NOT_ALLOWED,
    MSG_OUTGOING_NOT_SMTP,
    SOCKET_PLAIN,
    SOCKET_SSL,
    SOCKET_STARTTLS,
    AutodiscoverErrorResponse,
    Pop3Options,
    Server,
    SkippedServer,
    ThunderbirdRejects,
    read_autodiscover_pox,
    read_client_config,
)
from tests.support.thunderbird_reader.oauth_providers import known_hosts, oauth2_issuer

# A missing folder must fail, not skip: an empty parameter list would skip silently.
ISPDB_FILES = sorted(ISPDB.glob("*.xml")) or [ISPDB / "folder-is-missing.xml"]
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def config(servers: str, provider: str = 'id="example.com"', head: str = "") -> bytes:
    """A clientConfig document around the given server elements."""
    return (
        f'<?xml version="1.0"?><clientConfig version="1.1" {head}><emailProvider {provider}>'
        f"<domain>example.com</domain><displayName>Example</displayName>{servers}"
        "</emailProvider></clientConfig>"
    ).encode()


def server(
    kind: str = "imap",
    *,
    host: str = "mail.example.com",
    port: str = "993",
    sockets: tuple[str, ...] = ("SSL",),
    auths: tuple[str, ...] = ("password-cleartext",),
    extra: str = "",
    tag: str = "incomingServer",
) -> str:
    return (
        f'<{tag} type="{kind}"><hostname>{host}</hostname><port>{port}</port>'
        + "".join(f"<socketType>{s}</socketType>" for s in sockets)
        + "".join(f"<authentication>{a}</authentication>" for a in auths)
        + f"<username>%EMAILADDRESS%</username>{extra}</{tag}>"
    )


SMTP = server("smtp", port="587", sockets=("STARTTLS",), tag="outgoingServer")


def as_written(hostname: str | None) -> str:
    """A hostname as Thunderbird keeps it: lower-cased unless it holds a %PLACEHOLDER%."""
    host = (hostname or "").strip()
    return host if "%" in host else host.lower()


def rejection(document: bytes) -> str:
    with pytest.raises(ThunderbirdRejects) as caught:
        read_client_config(document)
    return caught.value.reason


# --- every file of Thunderbird's ISP database --------------------------------------------


def test_ispdb_folder_is_there() -> None:
    assert ISPDB.is_dir(), f"{ISPDB} is missing"
    assert len(list(ISPDB.glob("*.xml"))) >= 100


@pytest.mark.parametrize("path", ISPDB_FILES, ids=lambda path: path.name)
def test_every_ispdb_file_is_accepted_with_its_servers_as_written(path: Path) -> None:
    result = read_client_config(path.read_bytes())
    provider = etree.fromstring(path.read_bytes(), SAFE).find("emailProvider")
    assert provider is not None
    assert result.id == provider.get("id", "").lower()
    assert result.incoming, "Thunderbird needs an incoming server"
    assert result.outgoing, "Thunderbird needs an outgoing server"
    for direction, found in (("incoming", result.incoming), ("outgoing", result.outgoing)):
        skipped = {s.index for s in result.skipped if s.direction == direction}
        written = [
            (
                element.get("type"),
                as_written(element.findtext("hostname")),
                element.findtext("port"),
            )
            for index, element in enumerate(provider.findall(f"{direction}Server"))
            if index not in skipped
        ]
        assert [(s.type, s.hostname, str(s.port)) for s in found] == written


def test_the_only_ispdb_servers_thunderbird_drops_are_types_it_does_not_know() -> None:
    dropped = {
        (path.name, skip.reason)
        for path in ISPDB_FILES
        for skip in read_client_config(path.read_bytes()).skipped
    }
    assert dropped == {
        ("office365.com.xml", f"{MSG_NOT_ALLOWED} (bad value: '{kind}')")
        for kind in ("ews", "owa", "graph")
    }


def test_googlemail_uses_oauth2_with_a_password_fallback() -> None:
    result = read_client_config((ISPDB / "googlemail.com.xml").read_bytes())
    oauth = (AUTH_OAUTH2, AUTH_CLEARTEXT)
    assert result.id == "googlemail.com"
    assert result.display_name == "Google Mail"
    user = "%EMAILADDRESS%"
    kept = Pop3Options(leave_messages_on_server=True)
    assert result.incoming == (
        Server("imap", "imap.gmail.com", 993, SOCKET_SSL, AUTH_OAUTH2, oauth, user),
        Server("pop3", "pop.gmail.com", 995, SOCKET_SSL, AUTH_OAUTH2, oauth, user, None, kept),
    )
    assert result.outgoing == (
        Server("smtp", "smtp.gmail.com", 465, SOCKET_SSL, AUTH_OAUTH2, oauth, "%EMAILADDRESS%"),
    )


def test_runestone_pop3_does_not_leave_mail_on_the_server() -> None:
    result = read_client_config((ISPDB / "runestone.net.xml").read_bytes())
    assert result.domains == ("runestone.net",)
    (pop3,) = result.incoming
    host, user, methods = "mail.runestone.net", "%EMAILLOCALPART%", (AUTH_CLEARTEXT,)
    removed = Pop3Options(leave_messages_on_server=False)
    assert pop3 == Server(
        "pop3", host, 995, SOCKET_SSL, AUTH_CLEARTEXT, methods, user, None, removed
    )
    assert result.outgoing == (
        Server("smtp", host, 587, SOCKET_STARTTLS, AUTH_CLEARTEXT, methods, user),
    )


def test_earthlink_serves_three_domains_with_encrypted_passwords() -> None:
    result = read_client_config((ISPDB / "earthlink.net.xml").read_bytes())
    assert result.domains == ("earthlink.net", "mindspring.com", "ix.netcom.com")
    assert [(s.type, s.hostname, s.port, s.auth) for s in result.incoming] == [
        ("imap", "imap.earthlink.net", 993, AUTH_ENCRYPTED),
        ("pop3", "pop.earthlink.net", 995, AUTH_ENCRYPTED),
    ]
    assert [(s.hostname, s.port, s.socket_type, s.auth) for s in result.outgoing] == [
        ("smtpauth.earthlink.net", 587, SOCKET_STARTTLS, AUTH_CLEARTEXT),
    ]


# --- documents and servers Thunderbird refuses ---------------------------------------------


def test_a_document_without_email_provider_is_rejected() -> None:
    assert rejection(b"<clientConfig version='1.1'/>") == MSG_NO_EMAIL_PROVIDER
    assert rejection(b"<config><emailProvider id='a.b'/></config>") == MSG_NO_EMAIL_PROVIDER
    assert rejection(b"<clientConfig><emailProvider") == "Bad response content"


def test_provider_id_and_domains_must_be_hostnames() -> None:
    assert rejection(config(server() + SMTP, 'id="bad host"')) == MSG_HOSTNAME
    no_domain = config(server() + SMTP).replace(b"<domain>example.com</domain>", b"")
    assert rejection(no_domain) == "need proper <domain> in XML"
    # An attribute turns <domain> into an object for Thunderbird: not a hostname any more.
    mx_only = no_domain.replace(
        b"<displayName>", b'<domain purpose="mx">example.com</domain><displayName>'
    )
    assert rejection(mx_only) == MSG_HOSTNAME


def test_a_server_with_only_unknown_socket_types_is_skipped() -> None:
    assert rejection(config(server(sockets=("TLS", "ssl", " SSL ")) + SMTP)) == MSG_NOT_ALLOWED
    result = read_client_config(config(server(sockets=("TLS", "STARTTLS", "SSL")) + SMTP))
    assert result.incoming[0].socket_type == SOCKET_STARTTLS  # the first one it knows wins


def test_incoming_servers_need_real_authentication() -> None:
    for word in ("none", "client-IP-address", "smtp-after-pop", "TLS-client-cert"):
        assert rejection(config(server(auths=(word,)) + SMTP)) == MSG_NOT_ALLOWED
    result = read_client_config(config(server(auths=("none", "secure", "GSSAPI")) + SMTP))
    assert result.incoming[0].auth == AUTH_ENCRYPTED
    assert result.incoming[0].auth_alternatives == (AUTH_ENCRYPTED, "GSSAPI")


def test_outgoing_servers_may_use_no_authentication() -> None:
    for word in ("none", "client-IP-address", "smtp-after-pop"):
        relay = '<outgoingServer type="smtp"><hostname>relay.example.com</hostname>'
        relay += (
            f"<port>25</port><socketType>plain</socketType><authentication>{word}</authentication>"
        )
        (outgoing,) = read_client_config(config(server() + relay + "</outgoingServer>")).outgoing
        assert (outgoing.auth, outgoing.username, outgoing.socket_type) == (
            AUTH_NONE,
            None,
            SOCKET_PLAIN,
        )
    assert rejection(
        config(server() + server("smtp", tag="outgoingServer", auths=("TLS-client-cert",)))
    ) == (MSG_NOT_ALLOWED)
    assert (
        rejection(config(server() + server("smtps", tag="outgoingServer"))) == MSG_OUTGOING_NOT_SMTP
    )


def test_oauth2_only_works_on_thunderbirds_provider_hosts() -> None:
    oauth_only = server(auths=("OAuth2",))
    assert rejection(config(oauth_only + SMTP)) == "Lacking OAuth2 config for mail.example.com"
    result = read_client_config(
        config(oauth_only + server(port="143", sockets=("STARTTLS",)) + SMTP)
    )
    assert [(s.port, s.auth) for s in result.incoming] == [(143, AUTH_CLEARTEXT)]
    assert result.skipped[0].reason == "Lacking OAuth2 config for mail.example.com"
    fallback = read_client_config(config(server(auths=("OAuth2", "plain")) + SMTP)).incoming[0]
    assert (fallback.auth, fallback.auth_alternatives) == (AUTH_CLEARTEXT, (AUTH_CLEARTEXT,))
    gmail = read_client_config(config(server(host="IMAP.Gmail.com", auths=("OAuth2",)) + SMTP))
    assert (gmail.incoming[0].hostname, gmail.incoming[0].auth) == ("imap.gmail.com", AUTH_OAUTH2)


def test_hostnames_ports_and_placeholders() -> None:
    result = read_client_config(config(server(host=" mail.%EMAILDOMAIN% ") + SMTP))
    assert result.incoming[0].hostname == "mail.%EMAILDOMAIN%"
    assert rejection(config(server(host="mail.%emaildomain%") + SMTP)) == MSG_HOSTNAME
    assert rejection(config(server(host="mail_box.example.com") + SMTP)) == MSG_HOSTNAME
    assert read_client_config(config(server(host="192.0.2.1") + SMTP)).incoming[0].port == 993
    assert rejection(config(server(port="0") + SMTP)) == "Number too small"
    assert rejection(config(server(port="65536") + SMTP)) == "Number too large"
    assert rejection(config(server(port="imaps") + SMTP)) == "Not a number"
    assert read_client_config(config(server(port=" 993 ") + SMTP)).incoming[0].port == 993


def test_pop3_options_take_only_true_and_false() -> None:
    def options(inner: str) -> Pop3Options | None:
        pop3 = server("pop3", port="995", extra=f"<pop3>{inner}</pop3>")
        return read_client_config(config(pop3 + SMTP)).incoming[0].pop3_options

    assert options(
        "<leaveMessagesOnServer>false</leaveMessagesOnServer>"
        "<daysToLeaveMessagesOnServer>7</daysToLeaveMessagesOnServer>"
        "<downloadOnBiff>false</downloadOnBiff>"
    ) == Pop3Options(False, 7, False)
    # "yes" is not a boolean: ignored, and (same try block in Thunderbird) the days too.
    assert options(
        "<leaveMessagesOnServer>yes</leaveMessagesOnServer>"
        "<daysToLeaveMessagesOnServer>7</daysToLeaveMessagesOnServer>"
        "<downloadOnBiff>no</downloadOnBiff>"
    ) == Pop3Options(True, 14, True)
    # JXON turns "False" into a boolean before Thunderbird's check sees it.
    assert options("<leaveMessagesOnServer>False</leaveMessagesOnServer>") == Pop3Options(False)


def test_the_jxon_view_leaks_javascript_strings() -> None:
    document = config(server() + SMTP).replace(b"<displayName>Example</displayName>", b"")
    assert read_client_config(document).display_name == "undefined"
    no_username = server().replace("<username>%EMAILADDRESS%</username>", "<username/>")
    assert read_client_config(config(no_username + SMTP)).incoming[0].username == "true"


def test_namespace_uris_are_ignored_but_prefixes_are_not() -> None:
    assert read_client_config(config(server() + SMTP, head='xmlns="urn:x"')).id == "example.com"
    prefixed = b"<c:clientConfig xmlns:c='urn:x'><c:emailProvider id='a.b'/></c:clientConfig>"
    assert rejection(prefixed) == MSG_NO_EMAIL_PROVIDER


# --- URL-based servers (Thunderbird 150+, bug 1995836) ----------------------------------------

EWS_URL_ONLY = (
    '<incomingServer type="ews"><username>%EMAILADDRESS%</username>'
    "<authentication>password-cleartext</authentication>"
    "<url>{url}</url></incomingServer>"
)


def test_thunderbird_150_takes_host_and_socket_type_from_the_url() -> None:
    url = "https://mail.example.com/EWS/Exchange.asmx"
    document = config(server() + EWS_URL_ONLY.format(url=url) + SMTP)
    ews = read_client_config(document, version=150).incoming[1]
    assert (ews.type, ews.hostname, ews.port, ews.socket_type, ews.exchange_url) == (
        "ews", "mail.example.com", None, SOCKET_SSL, url,
    )
    # before 150 the type is unknown: skipped, the rest of the document still serves
    older = read_client_config(document)
    assert [s.type for s in older.incoming] == ["imap"]
    assert older.skipped == (SkippedServer("incoming", 1, f"{MSG_NOT_ALLOWED} (bad value: 'ews')"),)


def test_thunderbird_150_cannot_read_a_url_host_with_a_port() -> None:
    # URL.host is "mail.example.com:8443", which the hostname check refuses; that ends
    # the URL step before it sets the socket type, and without <socketType> the server
    # is skipped (with <socketType> it would be readAuthentication: no hostname)
    url = "https://mail.example.com:8443/EWS/Exchange.asmx"
    document = config(server() + EWS_URL_ONLY.format(url=url) + SMTP)
    assert read_client_config(document, version=150).skipped == (
        SkippedServer("incoming", 1, "need proper <socketType> in XML"),
    )
    with_socket = EWS_URL_ONLY.format(url=url).replace("<url>", "<socketType>SSL</socketType><url>")
    assert read_client_config(config(server() + with_socket + SMTP), version=150).skipped == (
        SkippedServer("incoming", 1, "No available hostname for server with type ews"),
    )


# --- Exchange Autodiscover POX -------------------------------------------------------------

RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def pox(account: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}">'
        f'<Response xmlns="{OUTLOOK_NS}"><Account><AccountType>email</AccountType>'
        f"{account}</Account></Response></Autodiscover>"
    ).encode()


def protocol(kind: str, port: int, extra: str = "<SSL>on</SSL>") -> str:
    return (
        f"<Protocol><Type>{kind}</Type><Server>Mail.Example.com</Server>"
        f"<Port>{port}</Port>{extra}</Protocol>"
    )


def test_pox_settings_pick_the_socket_type_by_port() -> None:
    result = read_autodiscover_pox(
        pox(
            "<Action>settings</Action>"
            + protocol(
                "IMAP", 993, "<LoginName>u@example.com</LoginName><SPA>off</SPA><SSL>on</SSL>"
            )
            + protocol("POP3", 110, "<SSL>on</SSL><Encryption>SSL</Encryption>")
            + protocol("IMAP", 143, "<SSL>off</SSL>")
            + protocol("SMTP", 587, "<SSL>on</SSL><Encryption>TLS</Encryption><SPA>on</SPA>")
            + protocol("SMTP", 2525, "<Encryption>None</Encryption>")
            + protocol("EXCH", 443)
            + protocol("DAV", 443)
        )
    )
    assert result.action == "settings"
    assert [(s.type, s.port, s.socket_type, s.auth, s.username) for s in result.incoming] == [
        ("imap", 993, SOCKET_SSL, AUTH_CLEARTEXT, "u@example.com"),
        ("pop3", 110, SOCKET_STARTTLS, AUTH_CLEARTEXT, "%EMAILADDRESS%"),
        ("imap", 143, SOCKET_PLAIN, AUTH_CLEARTEXT, "%EMAILADDRESS%"),
    ]
    assert [(s.hostname, s.port, s.socket_type, s.auth) for s in result.outgoing] == [
        ("mail.example.com", 587, SOCKET_STARTTLS, AUTH_SECURE),
        ("mail.example.com", 2525, SOCKET_PLAIN, AUTH_CLEARTEXT),
    ]
    assert result.other_types == ("DAV",)
    # EXCH without EwsUrl: InputSanitizer.url("undefined") throws, the entry is skipped
    assert result.skipped == (
        SkippedServer("incoming", 5, "URL scheme not allowed (bad value: 'undefined')"),
    )


def test_pox_without_smtp_is_still_complete_but_without_imap_it_is_not() -> None:
    assert read_autodiscover_pox(pox(protocol("IMAP", 993))).outgoing == ()
    with pytest.raises(ThunderbirdRejects, match="No valid configs"):
        read_autodiscover_pox(pox(protocol("SMTP", 465)))
    with pytest.raises(ThunderbirdRejects) as caught:
        read_autodiscover_pox(pox("<Action>settings</Action>"))
    assert caught.value.reason == MSG_NO_AUTODISCOVER


def test_pox_error_500_is_an_error_response() -> None:
    body = (
        f'<Autodiscover xmlns="{RESPONSE_NS}"><Response><Error Time="16:56:32.6164027" '
        'Id="1054084152"><ErrorCode>500</ErrorCode><Message>The e-mail address cannot be '
        "found.</Message><DebugData/></Error></Response></Autodiscover>"
    ).encode()
    with pytest.raises(AutodiscoverErrorResponse) as caught:
        read_autodiscover_pox(body)
    assert (caught.value.code, caught.value.message) == (
        "500",
        "The e-mail address cannot be found.",
    )


def test_pox_redirects() -> None:
    address = read_autodiscover_pox(
        pox("<Action>redirectAddr</Action><RedirectAddr>Other@Example.NET</RedirectAddr>")
    )
    assert (address.action, address.redirect) == ("redirectAddr", "other@example.net")
    assert address.thunderbird_follows_redirect
    target = "https://ad.example.net/autodiscover/autodiscover.xml"
    url = read_autodiscover_pox(
        pox(f"<Action>redirectUrl</Action><RedirectUrl>{target}</RedirectUrl>")
    )
    assert (url.action, url.redirect) == ("redirectUrl", target)
    assert not url.thunderbird_follows_redirect
    with pytest.raises(ThunderbirdRejects, match="Not a valid e-mail address"):
        read_autodiscover_pox(
            pox("<Action>redirectAddr</Action><RedirectAddr>nobody</RedirectAddr>")
        )


def test_pox_prefixed_elements_are_not_seen() -> None:
    body = pox(protocol("IMAP", 993)).replace(b"<Autodiscover xmlns=", b"<a:Autodiscover xmlns:a=")
    body = body.replace(b"</Autodiscover>", b"</a:Autodiscover>")
    with pytest.raises(ThunderbirdRejects) as caught:
        read_autodiscover_pox(body)
    assert caught.value.reason == MSG_NO_AUTODISCOVER


# --- the OAuth2 provider table -------------------------------------------------------------


PROTOCOLS = ("imap", "pop3", "smtp", "nntp", "exchange", "ews", "owl", "carddav", "caldav")


def test_the_servers_oauth2_table_agrees_with_the_oracles_own_reading() -> None:
    """Two restatements of OAuth2Providers.sys.mjs, written apart, must agree."""
    assert known_hosts() == THUNDERBIRD_OAUTH2_HOSTNAMES
    for host in sorted(known_hosts()):
        for name in (host, f"imap.{host}", host.upper()):
            for protocol in PROTOCOLS:
                assert thunderbird_oauth2_issuer(name, protocol) == oauth2_issuer(
                    name, protocol
                ), (name, protocol)


def test_oauth2_provider_lookup_walks_up_the_domain_and_knows_protocols() -> None:
    assert {"gmail.com", "office365.com", "outlook.com", "aol.com"} <= THUNDERBIRD_OAUTH2_HOSTNAMES
    assert not any(host.endswith(".test") for host in THUNDERBIRD_OAUTH2_HOSTNAMES)
    assert thunderbird_oauth2_issuer("IMAP.gmail.com", "imap") == "accounts.google.com"
    assert (
        thunderbird_oauth2_issuer("outlook.office365.com", "exchange")
        == "login.microsoftonline.com"
    )
    assert thunderbird_oauth2_issuer("imap.gmail.com", "nntp") is None
    assert thunderbird_oauth2_issuer("imap.yandex.com", "exchange") is None
    assert thunderbird_oauth2_issuer("gmail.com.example.org", "imap") is None
    assert thunderbird_oauth2_issuer("com", "imap") is None
