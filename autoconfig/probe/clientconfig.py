"""Reading a clientConfig document (``config-v1.1.xml``) the way each client reads it.

The three readers differ on purpose, because the clients do:

- Thunderbird desktop (``readFromXML.sys.mjs``): skips a server it cannot use and
  takes the first usable incoming and outgoing server; a document without one fails.
- Thunderbird for Android (thunderbird-android ``RealAutoconfigParser.kt``): reads
  every ``imap`` incoming and ``smtp`` outgoing server strictly; one bad value (a
  ``socketType`` other than ``SSL``/``STARTTLS``, a missing ``username``, no usable
  ``authentication``) rejects the whole document. POP3 servers are skipped.
- Delta Chat (chatmail/core ``src/configure/auto_mozilla.rs``): keeps every ``imap``
  and ``smtp`` server that has a hostname, port and username, whatever else it says.
"""

from __future__ import annotations

import re
from typing import TypeVar

from lxml import etree

from autoconfig.address import EmailAddress
from autoconfig.pox import request_parser
from autoconfig.probe.result import Setting

T = TypeVar("T")


class Rejected(Exception):
    """The client throws the document away; the message says why, in its terms."""


_HOSTNAME = re.compile(r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")
# readFromXML.sys.mjs: socketType words and the authentication words it knows per direction.
TB_SOCKET_TYPES = ("plain", "SSL", "STARTTLS")
TB_INCOMING_AUTH = ("password-cleartext", "plain", "password-encrypted", "secure", "GSSAPI",
                    "NTLM", "OAuth2")
TB_OUTGOING_AUTH = (*TB_INCOMING_AUTH, "client-IP-address", "smtp-after-pop", "none")
TB_PASSWORD_AUTH = ("password-cleartext", "plain", "password-encrypted", "secure")
# RealAutoconfigParser.kt: toAuthenticationType() and toConnectionSecurity().
ANDROID_AUTH = ("OAuth2", "password-cleartext", "password-encrypted")
ANDROID_SOCKET_TYPES = ("SSL", "STARTTLS")


def parse_document(body: bytes) -> etree._Element:
    """The root element; Rejected if the body is not well-formed XML."""
    try:
        root = etree.fromstring(body, request_parser())
    except (etree.LxmlError, ValueError) as error:
        raise Rejected(f"not well-formed XML ({error})") from None
    if root is None:
        raise Rejected("an empty document")
    return root


def _provider(root: etree._Element) -> etree._Element:
    provider = root.find("emailProvider") if root.tag == "clientConfig" else None
    if provider is None:
        raise Rejected(f"no <clientConfig><emailProvider> (the root is <{root.tag}>)")
    return provider


def _text(element: etree._Element, name: str) -> str:
    child = element.find(name)
    return (child.text or "").strip() if child is not None else ""


def fill(text: str, address: EmailAddress) -> str:
    """Replace the placeholders every client knows (AccountConfig.sys.mjs replaceVariables)."""
    return (text.replace("%EMAILADDRESS%", str(address))
            .replace("%EMAILLOCALPART%", address.local)
            .replace("%EMAILDOMAIN%", address.domain))


def _valid_port(text: str) -> int | None:
    return int(text) if text.isdigit() and 1 <= int(text) <= 65535 else None


def _tb_server(element: etree._Element, role: str, address: EmailAddress) -> Setting:
    """One server as readFromXML.sys.mjs reads it; Rejected names what makes it unusable."""
    host = fill(_text(element, "hostname"), address)
    if not _HOSTNAME.fullmatch(host):
        raise Rejected(f"hostname {host!r} is not a host name")
    port = _valid_port(_text(element, "port"))
    if port is None:
        raise Rejected(f"port {_text(element, 'port')!r} is not a port number")
    sockets = [(e.text or "").strip() for e in element.findall("socketType")]
    security = next((s for s in sockets if s in TB_SOCKET_TYPES), None)
    if security is None:
        raise Rejected(f"no socketType it knows (got {sockets or 'none'})")
    known = TB_OUTGOING_AUTH if role == "outgoing" else TB_INCOMING_AUTH
    methods = [(e.text or "").strip() for e in element.findall("authentication")]
    # readAuthentication(): OAuth2 counts only for hosts in Thunderbird's OAuth2Providers
    # list, which the probe cannot know; the next method is taken instead.
    auth = next((m for m in methods if m in known and m != "OAuth2"), None)
    if auth is None:
        raise Rejected(f"no authentication it can use (got {methods or 'none'}; OAuth2 only"
                       " for the providers built into Thunderbird)")
    username = fill(_text(element, "username"), address)
    needs_username = role == "incoming" or auth in TB_PASSWORD_AUTH
    if needs_username and element.find("username") is None:
        raise Rejected("no <username>")
    return Setting(role, str(element.get("type")), host, port, security, auth, username)


def thunderbird_settings(root: etree._Element, address: EmailAddress,
                         notes: list[str]) -> list[Setting]:
    """The first usable incoming and outgoing server (the rest are alternatives)."""
    provider = _provider(root)
    if not _HOSTNAME.fullmatch(provider.get("id") or ""):
        raise Rejected(f"emailProvider id {provider.get('id')!r} is not a host name")
    if not any(_HOSTNAME.fullmatch(fill(e.text or "", address))
               for e in provider.findall("domain")):
        raise Rejected("need proper <domain> in XML")
    chosen: list[Setting] = []
    for tag, role, types in (("incomingServer", "incoming", ("imap", "pop3", "nntp", "exchange")),
                             ("outgoingServer", "outgoing", ("smtp",))):
        for element in provider.findall(tag):
            if element.get("type") not in types:
                notes.append(f"skips <{tag} type={element.get('type')!r}>")
                continue
            try:
                chosen.append(_tb_server(element, role, address))
                break
            except Rejected as error:
                notes.append(f"skips <{tag} type={element.get('type')!r}>: {error}")
        else:
            raise Rejected(f"no usable <{tag}>")
    return chosen


def _android_server(element: etree._Element, role: str, address: EmailAddress) -> Setting:
    """``parseServer`` of RealAutoconfigParser.kt: every problem rejects the document."""
    host: str | None = None
    port: int | None = None
    username: str | None = None
    methods: list[str] = []
    security: str | None = None
    for child in element:
        text = (child.text or "").strip()
        if child.tag == "hostname":
            host = fill(text, address)
            if not _HOSTNAME.fullmatch(host):
                raise Rejected(f"Invalid 'hostname' value: '{text}'")
        elif child.tag == "port":
            port = _valid_port(text)
            if port is None:
                raise Rejected(f"Invalid 'port' value: '{text}'")
        elif child.tag == "username":
            username = fill(text, address)
        elif child.tag == "authentication" and text in ANDROID_AUTH:
            methods.append(text)
        elif child.tag == "socketType":
            if text not in ANDROID_SOCKET_TYPES:
                raise Rejected(f"Unknown 'socketType' value: '{text}'")
            security = text
    # The Kotlin parser's order of checks, so the first problem is the one it reports.
    host = _need(host, "Missing 'hostname' element")
    port = _need(port, "Missing 'port' element")
    username = _need(username, "Missing 'username' element")
    auth = _need(methods[0] if methods else None, "No usable 'authentication' element found")
    security = _need(security, "Missing 'socketType' element")
    return Setting(role, str(element.get("type")), host, port, security, auth, username)


def _need(value: T | None, message: str) -> T:
    if value is None:
        raise Rejected(message)
    return value


def android_settings(root: etree._Element, address: EmailAddress) -> list[Setting]:
    """The first ``imap`` and ``smtp`` server, after every one of them was read strictly."""
    provider = _provider(root)
    provider_id = provider.get("id")
    if provider_id is None:
        raise Rejected("Missing 'emailProvider.id' attribute")
    if not _HOSTNAME.fullmatch(provider_id):
        raise Rejected("Invalid 'emailProvider.id' attribute")
    found: dict[str, Setting] = {}
    for element in provider:
        if element.tag == "incomingServer" and element.get("type") == "imap":
            found.setdefault("incoming", _android_server(element, "incoming", address))
        elif element.tag == "outgoingServer" and element.get("type") == "smtp":
            found.setdefault("outgoing", _android_server(element, "outgoing", address))
    domains = [fill((e.text or ""), address) for e in provider.findall("domain")]
    if not any(_HOSTNAME.fullmatch(d) for d in domains):
        raise Rejected("Valid 'domain' element required")
    if "incoming" not in found:
        raise Rejected("Missing 'incomingServer' element (of type imap)")
    if "outgoing" not in found:
        raise Rejected("Missing 'outgoingServer' element (of type smtp)")
    return [found["incoming"], found["outgoing"]]


def deltachat_settings(root: etree._Element, address: EmailAddress) -> list[Setting]:
    """Every ``imap``/``smtp`` server with hostname, port and username (auto_mozilla.rs)."""
    settings = []
    for element in root.iter("incomingServer", "outgoingServer"):
        kind = (element.get("type") or "").lower()
        host, port_text = _text(element, "hostname"), _text(element, "port")
        username = element.find("username")
        if kind not in ("imap", "smtp") or not host or not port_text or username is None:
            continue
        sockets = element.findall("socketType")  # each one read overwrites the last
        socket_type = (sockets[-1].text or "").strip().lower() if sockets else ""
        security = socket_type if socket_type in ("ssl", "starttls", "plain") else "automatic"
        role = "incoming" if kind == "imap" else "outgoing"
        port = int(port_text) if port_text.isdigit() else 0
        settings.append(Setting(role, kind, fill(host, address), port, security, "",
                                fill((username.text or "").strip(), address)))
    return settings
