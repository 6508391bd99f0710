"""Microsoft Autodiscover answers: POX settings (Outlook 2006a), the ActiveSync
(mobilesync) settings, POX errors, v2 JSON.

Pure functions: a ``DomainConfig`` plus what the answer validated goes in,
response bytes come out. Nothing from a request is echoed except a validated
address (in ``LoginName``) or, in the v2 ``InvalidProtocol`` message, the
protocol value stripped to ASCII letters and digits. Element names, order and
values follow docs/autodiscover.md (settings response to v2 JSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import time
from typing import Any

from lxml import etree

from autoconfig.address import EmailAddress
from autoconfig.domains.records import (
    PLACEHOLDER_DOMAIN,
    Auth,
    DomainConfig,
    Protocol,
    Security,
    Server,
)
from autoconfig.pox import (
    ERROR_MESSAGES,
    NS_MOBILESYNC_RESPONSE,
    NS_OUTLOOK_RESPONSE,
    NS_RESPONSE,
    ErrorCode,
)
from autoconfig.render.prepared import ByRecord, Slotted, escape_text, marker

# Protocol/Type words (docs/autodiscover.md#protocol-elements, MicrosoftDocs type-pox).
PROTOCOL_TYPE: dict[Protocol, str] = {
    Protocol.IMAP: "IMAP",
    Protocol.POP3: "POP3",
    Protocol.SMTP: "SMTP",
}

# SSL and Encryption, always both (docs/autodiscover.md#encryption): Outlook 2010+ reads
# Encryption (SSL = implicit TLS, TLS = STARTTLS), Outlook 2007 only SSL, and the SSL
# default is "on", so plaintext needs SSL=off spelled out (MS-OXDSCLI ssl a02659dd).
SSL_ENCRYPTION: dict[Security, tuple[str, str]] = {
    Security.TLS: ("on", "SSL"),
    Security.STARTTLS: ("on", "TLS"),
    Security.NONE: ("off", "None"),
}

# SPA (Secure Password Authentication = NTLM/Kerberos) defaults to "on" when absent
# (docs/autodiscover.md#spa), so it is always emitted, "on" only for these methods.
SPA_METHODS: frozenset[Auth] = frozenset({Auth.NTLM, Auth.GSSAPI})

# POX has no words for OAuth2 or client certificates
# (docs/autodiscover.md#protocol-elements): Outlook then uses the next method of the
# file's list; a server offering only these gets the password settings, the best
# Outlook can do with it.
POX_INEXPRESSIBLE: frozenset[Auth] = frozenset({Auth.OAUTH2, Auth.CLIENT_CERT})

# Hours a client may keep the settings before asking again (docs/autodiscover.md#ttl: default 1).
TTL_HOURS = 1

V2_PROTOCOL = "AutodiscoverV1"
V2_ACTIVESYNC = "ActiveSync"
V2_EWS = "Ews"
# Characters of a rejected Protocol value shown back (docs/autodiscover.md#common-mistakes).
V2_PROTOCOL_MAX_ECHO = 32
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def _default_namespace(namespace: str) -> dict[Any, str]:
    """An nsmap declaring ``namespace`` as the default (lxml's key for that is None)."""
    return {None: namespace}


def _text(parent: etree._Element, name: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS_OUTLOOK_RESPONSE}}}{name}")
    element.text = value
    return element


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def outlook_auth(server: Server) -> Auth:
    """The method Outlook ends up using: the first one POX can express."""
    usable = [method for method in server.auth if method not in POX_INEXPRESSIBLE]
    return usable[0] if usable else Auth.PASSWORD


def _login(server: Server, address: EmailAddress | None) -> str | None:
    """The LoginName for ``address``; without one, only a login that is the same for
    every user (None: no LoginName element)."""
    if address is not None:
        return server.username_for(address)
    return None if server.username_depends_on_address else server.username


def _protocol(
    account: etree._Element,
    server: Server,
    domain: str,
    login: str | None,
    incoming_username: str | None,
) -> None:
    element = etree.SubElement(account, f"{{{NS_OUTLOOK_RESPONSE}}}Protocol")
    _text(element, "Type", PROTOCOL_TYPE[server.protocol])
    _text(element, "TTL", str(TTL_HOURS))
    _text(element, "Server", server.host.replace(PLACEHOLDER_DOMAIN, domain))
    _text(element, "Port", str(server.port))
    if login is not None:
        _text(element, "LoginName", login)
    _text(element, "DomainRequired", "off")
    auth = outlook_auth(server)
    _text(element, "SPA", _on_off(auth in SPA_METHODS))
    ssl, encryption = SSL_ENCRYPTION[server.security]
    _text(element, "SSL", ssl)
    _text(element, "Encryption", encryption)
    _text(element, "AuthRequired", _on_off(auth is not Auth.NONE))
    if server.protocol is Protocol.SMTP:
        # "Use the same settings as my incoming server": true when the login is the same.
        same_login = auth is not Auth.NONE and server.username == incoming_username
        _text(element, "UsePOPAuth", _on_off(same_login))
        _text(element, "SMTPLast", "off")  # SMTP-after-POP: no domain file says so


# OWAUrl's AuthenticationMethod (MS-OXDSCLI, the OWAUrl element; FBA = forms-based): a groupware web
# app logs in with a form. The attribute also matters to Thunderbird, which reads the
# URL as ``OWAUrl.value`` (ExchangeAutoDiscover.sys.mjs): without an attribute the JXON
# view of the element is its bare text, ``.value`` is undefined and WEB is skipped.
OWA_AUTHENTICATION = "FBA"


def _groupware(account: etree._Element, config: DomainConfig) -> None:
    """EWS and OWA as Exchange announces them (MS-OXDSCLI, Protocol element and its Type).

    EWS goes in an ``EXCH`` Protocol: Thunderbird reads ``EwsUrl`` from EXCH or EXHTTP,
    exchangelib from EXPR or else EXCH (``autodiscover/properties.py``, Response.protocol),
    so EXCH is the one both find. Both entries come before IMAP/POP3: Thunderbird writes
    what they say (type exchange, host, URLs) into its first incoming server, whatever
    that holds by then, so after an IMAP entry they would overwrite the IMAP server.
    """
    if config.owa:
        web = etree.SubElement(account, f"{{{NS_OUTLOOK_RESPONSE}}}Protocol")
        _text(web, "Type", "WEB")
        external = etree.SubElement(web, f"{{{NS_OUTLOOK_RESPONSE}}}External")
        _text(external, "OWAUrl", config.owa).set("AuthenticationMethod", OWA_AUTHENTICATION)
    if config.ews:
        exch = etree.SubElement(account, f"{{{NS_OUTLOOK_RESPONSE}}}Protocol")
        _text(exch, "Type", "EXCH")
        _text(exch, "TTL", str(TTL_HOURS))
        _text(exch, "EwsUrl", config.ews)


def _serialize(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def render_pox_settings(
    config: DomainConfig, domain: str, address: EmailAddress | None = None
) -> bytes:
    """The Outlook 2006a settings response for ``domain`` (served by ``config``).

    With ``address`` every ``LoginName`` is that user's; without (a GET that only
    names a domain) ``LoginName`` is left out where it depends on the address.
    No ``User`` element: its ``DisplayName`` would be a person's name, which we do
    not know, and Outlook would show whatever we put there.

    The answer for a domain is built once (``_prepared_pox``) and kept, cut at its
    login names: per request only they are filled in, escaped as lxml escapes them, so
    a request costs a join instead of building sixty elements. ``config`` is
    therefore a domain's record from the registry; a per-user one (``with_login``)
    goes to ``render_pox_personal``, so that it never takes a place in that memo.
    """
    prepared = _PREPARED.get(
        config, (domain, address is not None),
        lambda: _prepared_pox(config, domain, with_logins=address is not None),
    )
    if prepared is None:
        return _render_pox(config, domain, address)
    if address is None:
        return prepared.fill({})
    values = _login_values(config, address)
    if values is None:
        return _render_pox(config, domain, address)
    return prepared.fill(values)


def render_pox_personal(config: DomainConfig, domain: str, address: EmailAddress) -> bytes:
    """The settings response for a record made for one user (``DomainConfig.with_login``),
    built whole: besides the login names, ``UsePOPAuth`` depends on them."""
    return _render_pox(config, domain, address)


_PREPARED: ByRecord[Slotted | None] = ByRecord()


def prepared_pox_answers() -> int:
    """How many prepared answers this process keeps (tests: per-user records add none)."""
    return len(_PREPARED)


def _servers(config: DomainConfig) -> tuple[Server, ...]:
    return (*config.incoming, *config.outgoing)


def _prepared_pox(config: DomainConfig, domain: str, *, with_logins: bool) -> Slotted | None:
    """The answer for ``domain`` cut at a LoginName for every server that has one (none
    if not ``with_logins``); None if it cannot be cut (then every answer is built whole)."""
    if not with_logins:
        return Slotted.cut(_render_pox(config, domain, None), set())
    slots = {index: f"login{index}" for index, server in enumerate(_servers(config))
             if server.username is not None}
    logins = {index: marker(name) for index, name in slots.items()}
    document = _build_pox(config, domain, lambda index, _server: logins.get(index))
    return Slotted.cut(document, set(slots.values()))


def _login_values(config: DomainConfig, address: EmailAddress) -> dict[str, bytes] | None:
    """The escaped login names of ``address`` by slot; None if one is no plain text."""
    values: dict[str, bytes] = {}
    for index, server in enumerate(_servers(config)):
        login = server.username_for(address)
        if login is None:
            continue
        escaped = escape_text(login)
        if escaped is None:
            return None
        values[f"login{index}"] = escaped
    return values


def _render_pox(config: DomainConfig, domain: str, address: EmailAddress | None) -> bytes:
    return _build_pox(config, domain, lambda _index, server: _login(server, address))


def _build_pox(
    config: DomainConfig, domain: str, login: Callable[[int, Server], str | None]
) -> bytes:
    """The settings response, with ``login(index, server)`` as each server's LoginName."""
    root = etree.Element(f"{{{NS_RESPONSE}}}Autodiscover", nsmap=_default_namespace(NS_RESPONSE))
    response = etree.SubElement(
        root, f"{{{NS_OUTLOOK_RESPONSE}}}Response", nsmap=_default_namespace(NS_OUTLOOK_RESPONSE)
    )
    account = etree.SubElement(response, f"{{{NS_OUTLOOK_RESPONSE}}}Account")
    _text(account, "AccountType", "email")
    _text(account, "Action", "settings")
    _groupware(account, config)
    incoming_username = config.incoming[0].username if config.incoming else None
    for index, server in enumerate(_servers(config)):
        _protocol(account, server, domain, login(index, server), incoming_username)
    return _serialize(root)


def render_mobilesync_settings(
    config: DomainConfig, address: EmailAddress, display_name: str | None = None
) -> bytes:
    """The ActiveSync Autodiscover answer (MS-ASCMD 2.2.1.1 Autodiscover command and
    its 4.2.4 example): ``Action/Settings/Server`` with ``Type`` MobileSync and the URL in
    both ``Url`` and ``Name``, as Exchange sends it. ``User`` names the validated address
    (and the person, when a directory gave the name). Needs ``config.activesync``."""
    if config.activesync is None:
        raise ValueError(f"{config.source} has no activesync URL")
    namespace = NS_MOBILESYNC_RESPONSE
    root = etree.Element(f"{{{NS_RESPONSE}}}Autodiscover", nsmap=_default_namespace(NS_RESPONSE))
    response = etree.SubElement(
        root, f"{{{namespace}}}Response", nsmap=_default_namespace(namespace)
    )

    def add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{namespace}}}{name}")
        element.text = text
        return element

    add(response, "Culture", "en:us")
    user = add(response, "User")
    if display_name:
        add(user, "DisplayName", display_name)
    add(user, "EMailAddress", str(address))
    server = add(add(add(response, "Action"), "Settings"), "Server")
    add(server, "Type", "MobileSync")
    add(server, "Url", config.activesync)
    add(server, "Name", config.activesync)
    return _serialize(root)


def format_error_time(now: time) -> str:
    """``Time`` attribute: time of day, ``hh:mm:ss.ffffff`` (docs/autodiscover.md#errors)."""
    return now.strftime("%H:%M:%S.%f")


def render_pox_error(
    code: ErrorCode, now: time, server_id: int, *, reason: str = "", mobilesync: bool = False
) -> bytes:
    """A POX ``Error`` response (docs/autodiscover.md#errors); ``mobilesync`` wraps it
    as MS-ASCMD 4.2.4 does for ActiveSync clients (docs/autodiscover.md#activesync):
    ``Response`` in the mobilesync namespace.

    ``server_id`` is the ``Id`` attribute (unsigned, identifies this server);
    ``reason`` goes into ``DebugData`` and must be one of our fixed texts.
    """
    root = etree.Element(f"{{{NS_RESPONSE}}}Autodiscover", nsmap=_default_namespace(NS_RESPONSE))
    if mobilesync:
        namespace = NS_MOBILESYNC_RESPONSE
        response = etree.SubElement(
            root, f"{{{namespace}}}Response", nsmap=_default_namespace(namespace)
        )
    else:
        namespace = NS_RESPONSE
        response = etree.SubElement(root, f"{{{namespace}}}Response")
    error = etree.SubElement(
        response, f"{{{namespace}}}Error", Time=format_error_time(now), Id=str(server_id)
    )
    etree.SubElement(error, f"{{{namespace}}}ErrorCode").text = str(int(code))
    etree.SubElement(error, f"{{{namespace}}}Message").text = ERROR_MESSAGES[code]
    etree.SubElement(error, f"{{{namespace}}}DebugData").text = reason or None
    return _serialize(root)


# --- Autodiscover v2 (JSON, docs/autodiscover.md#autodiscover-v2-json) -------------------


def v2_pox_url(config: DomainConfig) -> str:
    """Where Outlook should POST next: built from the domain file, never from Host
    (docs/autodiscover.md#common-mistakes). The file's first domain is the provider's
    own, so a hoster's customer domains all point at the hoster's ``autodiscover.`` host
    and certificate."""
    return f"https://autodiscover.{config.id}/autodiscover/autodiscover.xml"


def _json(document: dict[str, str]) -> bytes:
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def v2_urls(config: DomainConfig) -> dict[str, str]:
    """Protocol values the v2 endpoint answers for this domain, with their URLs: the POX
    URL always, ActiveSync and Ews when the file has them (Microsoft's v2 service
    answers these names the same way: ``{"Protocol": …, "Url": …}``)."""
    urls = {V2_PROTOCOL: v2_pox_url(config)}
    if config.activesync:
        urls[V2_ACTIVESYNC] = config.activesync
    if config.ews:
        urls[V2_EWS] = config.ews
    return urls


def render_v2(config: DomainConfig, protocol: str = V2_PROTOCOL) -> bytes:
    """The answer for ``protocol`` (one of ``v2_urls``): where that service is."""
    return _json({"Protocol": protocol, "Url": v2_urls(config)[protocol]})


def sanitize_protocol(raw: str) -> str:
    """A rejected Protocol value as it may be shown back: ASCII letters and digits only."""
    return _NOT_ALNUM.sub("", raw)[:V2_PROTOCOL_MAX_ECHO]


def render_v2_invalid_protocol(raw: str, supported: tuple[str, ...] = (V2_PROTOCOL,)) -> bytes:
    """Microsoft's ``InvalidProtocol`` error (docs/autodiscover.md#autodiscover-v2-json),
    with the value sanitised and the values this domain answers listed."""
    return render_v2_error(
        "InvalidProtocol",
        f"The given protocol value '{sanitize_protocol(raw)}' is invalid. "
        f"Supported values are '{', '.join(supported)}'",
    )


def render_v2_error(error_code: str, message: str) -> bytes:
    """A v2 error body in Microsoft's shape; ``message`` holds no raw request text."""
    return _json({"ErrorCode": error_code, "ErrorMessage": message})
