"""Thunderbird autoconfig (clientConfig 1.1), also read by K-9/Thunderbird for
Android, Evolution, KMail, Delta Chat and FairEmail.

Placeholders stay literal (``%EMAILADDRESS%``), so one document per domain file
serves every user and can be rendered once per load and cached by proxies.
Element names and values follow docs/thunderbird.md (Thunderbird's readFromXML).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from lxml import etree

from autoconfig.domains.records import (
    Auth,
    DomainConfig,
    OAuth2Settings,
    Pop3Options,
    Security,
    Server,
)

# socketType words, case-sensitive (docs/thunderbird.md#tls-modes; TB readFromXML).
SOCKET_TYPE: dict[Security, str] = {
    Security.TLS: "SSL",
    Security.STARTTLS: "STARTTLS",
    Security.NONE: "plain",
}

# authentication words (docs/thunderbird.md#authentication; TB readFromXML / AccountConfig).
AUTHENTICATION: dict[Auth, str] = {
    Auth.PASSWORD: "password-cleartext",
    Auth.PASSWORD_ENCRYPTED: "password-encrypted",
    Auth.NTLM: "NTLM",
    Auth.GSSAPI: "GSSAPI",
    Auth.OAUTH2: "OAuth2",
    Auth.CLIENT_CERT: "TLS-client-cert",
    Auth.NONE: "none",
}

# DAV sections use HTTP authentication words (docs/thunderbird.md#calendars-and-address-books).
DAV_AUTHENTICATION = "http-basic"
DAV_USERNAME = "%EMAILADDRESS%"


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = value
    return element


def _boolean(value: bool) -> str:
    # Thunderbird accepts only these literals (docs/thunderbird.md#booleans).
    return "true" if value else "false"


def _pop3(parent: etree._Element, options: Pop3Options) -> None:
    pop3 = etree.SubElement(parent, "pop3")
    if options.leave_messages_on_server is not None:
        _text(pop3, "leaveMessagesOnServer", _boolean(options.leave_messages_on_server))
    if options.days_to_leave is not None:
        _text(pop3, "daysToLeaveMessagesOnServer", str(options.days_to_leave))
    if options.download_on_biff is not None:
        _text(pop3, "downloadOnBiff", _boolean(options.download_on_biff))


def _server(parent: etree._Element, tag: str, server: Server) -> None:
    element = etree.SubElement(parent, tag, type=server.protocol.value)
    _text(element, "hostname", server.host)
    _text(element, "port", str(server.port))
    _text(element, "socketType", SOCKET_TYPE[server.security])
    for method in server.auth:
        _text(element, "authentication", AUTHENTICATION[method])
    if server.username is not None:  # only an outgoing server with auth none has none
        _text(element, "username", server.username)
    if server.pop3 is not None:
        _pop3(element, server.pop3)


# EWS over HTTP(S): Basic authentication, which Thunderbird calls password-cleartext.
EWS_AUTHENTICATION = "password-cleartext"


def _ews(parent: etree._Element, url: str, username: str) -> None:
    """``incomingServer type="ews"`` as Thunderbird 150+ reads it (readFromXML.sys.mjs,
    bug 1995836): the URL is what it uses; hostname and port are spelled out as well,
    because the URL's host is read with its port (``host:8443`` fails the hostname
    check) and the authentication step needs a hostname. Older versions do not know the
    type and skip the element, so the document stays valid for them.
    """
    parts = urlsplit(url)
    https = parts.scheme == "https"
    element = etree.SubElement(parent, "incomingServer", type="ews")
    _text(element, "hostname", parts.hostname or "")
    _text(element, "port", str(parts.port or (443 if https else 80)))
    _text(element, "socketType", SOCKET_TYPE[Security.TLS if https else Security.NONE])
    _text(element, "authentication", EWS_AUTHENTICATION)
    _text(element, "username", username)
    _text(element, "url", url)


def _dav(parent: etree._Element, tag: str, kind: str, url: str) -> None:
    element = etree.SubElement(parent, tag, type=kind)
    _text(element, "username", DAV_USERNAME)
    _text(element, "authentication", DAV_AUTHENTICATION)
    _text(element, "serverURL", url)


# Thunderbird needs at least one <domain> (readFromXML.sys.mjs) and never compares the
# list with the domain it asked for (FetchConfig.sys.mjs: a hoster's document found by MX
# serves domains it does not list). A file listing 100 000 customer domains would make a
# 4 MB answer; the first ones say the same to every client.
MAX_LISTED_DOMAINS = 50
def _oauth2(parent: etree._Element, settings: OAuth2Settings) -> None:
    """clientConfig 1.2's ``<oAuth2>`` (draft-ietf-mailmaint-autoconfig-06), as ISPDB writes it.

    ``issuer`` is a host name there (``accounts.google.com``), so the issuer URL's host;
    no secret ever. Readers of 1.1 skip the unknown element: Thunderbird desktop ignores
    it, Thunderbird for Android skips unknown children of clientConfig
    (RealAutoconfigParser.kt), so the version attribute stays 1.1.
    """
    element = etree.SubElement(parent, "oAuth2")
    _text(element, "issuer", urlsplit(settings.issuer).hostname or settings.issuer)
    if settings.scopes:
        _text(element, "scope", " ".join(settings.scopes))
    if settings.authorization_url:
        _text(element, "authURL", settings.authorization_url)
    if settings.token_url:
        _text(element, "tokenURL", settings.token_url)
    if settings.client_id:
        _text(element, "clientID", settings.client_id)


def render_thunderbird(config: DomainConfig) -> bytes:
    """The clientConfig 1.1 document for ``config``, with its XML declaration."""
    root = etree.Element("clientConfig", version="1.1")
    provider = etree.SubElement(root, "emailProvider", id=config.id)
    for domain in config.domains[:MAX_LISTED_DOMAINS]:
        _text(provider, "domain", domain)
    _text(provider, "displayName", config.name)
    if config.short_name:
        _text(provider, "displayShortName", config.short_name)
    for server in config.incoming:
        _server(provider, "incomingServer", server)
    if config.ews:  # after the file's own servers: Thunderbird offers it as an alternative
        _ews(provider, config.ews, config.login_template)
    for server in config.outgoing:
        _server(provider, "outgoingServer", server)
    if config.help_url:
        documentation = etree.SubElement(provider, "documentation", url=config.help_url)
        _text(documentation, "descr", f"{config.name}: mail set-up help").set("lang", "en")
    if config.webmail:
        webmail = etree.SubElement(root, "webMail")
        etree.SubElement(webmail, "loginPage", url=config.webmail)
    if config.carddav:
        _dav(root, "addressBook", "carddav", config.carddav)
    if config.caldav:
        _dav(root, "calendar", "caldav", config.caldav)
    if config.oauth2:
        _oauth2(root, config.oauth2)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
