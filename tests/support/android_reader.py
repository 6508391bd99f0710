"""Thunderbird for Android's autoconfig parser, restated in Python for tests.

Written from (not copied from) ``RealAutoconfigParser.kt`` in thunderbird/thunderbird-android
(feature/autodiscovery/autoconfig, commit a59bd679859d369c9a39be147e536b825ffd0a6b,
2026-08-20). Its rules, which reject the *whole* document where noted:

- the root ``clientConfig`` needs an ``emailProvider`` (other children are skipped);
- ``emailProvider@id`` must be a host name (rejects), at least one ``domain`` must be one
  after placeholder replacement (rejects);
- only ``incomingServer type="imap"`` and ``outgoingServer type="smtp"`` are read, others
  skipped; at least one of each (rejects);
- inside a read server, ``hostname``, ``port``, ``username``, ``authentication`` and
  ``socketType`` are taken wherever they are nested; each must hold text only (rejects);
  a hostname that is not a host name, a port outside 0..65535, a ``socketType`` other than
  ``SSL``/``STARTTLS`` (rejects); unknown ``authentication`` words are ignored, and a
  server without a usable one, or without hostname, port, username or socketType, rejects.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

AUTH_TYPES = {"OAuth2": "OAuth2", "password-cleartext": "PasswordCleartext",
              "password-encrypted": "PasswordEncrypted"}
SECURITY = {"SSL": "TLS", "STARTTLS": "StartTLS"}
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class AndroidRejects(Exception):
    """AutoconfigParserResult.ParserError: the document gives no settings at all."""


@dataclass(frozen=True)
class AndroidServer:
    hostname: str
    port: int
    security: str
    auth: tuple[str, ...]
    username: str


@dataclass(frozen=True)
class AndroidSettings:
    incoming: tuple[AndroidServer, ...]
    outgoing: tuple[AndroidServer, ...]


def _valid_hostname(text: str) -> bool:
    name = text.strip().strip("[]")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        labels = name.removesuffix(".").split(".")
        return bool(name) and all(_LABEL.fullmatch(label) for label in labels)
    return True


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _text(element: Any) -> str:
    if any(isinstance(child.tag, str) for child in element):
        raise AndroidRejects(f"Expected text, but got START_TAG in '{_local(element)}'")
    return "".join(element.itertext())


class _Reader:
    def __init__(self, address: str) -> None:
        self.local, _, self.domain = address.partition("@")
        self.address = address

    def replace(self, text: str) -> str:
        return (text.replace("%EMAILDOMAIN%", self.domain)
                .replace("%EMAILLOCALPART%", self.local)
                .replace("%EMAILADDRESS%", self.address))

    def server(self, element: Any) -> AndroidServer:
        values: dict[str, Any] = {}
        auth: list[str] = []
        for child in element.iterdescendants():
            name = _local(child)
            if name == "hostname":
                text = _text(child)
                host = self.replace(text)
                if not _valid_hostname(host):
                    raise AndroidRejects(f"Invalid 'hostname' value: '{text}'")
                values["hostname"] = host
            elif name == "port":
                text = _text(child)
                if not re.fullmatch(r"[+-]?\d+", text) or not 0 <= int(text) <= 65535:
                    raise AndroidRejects(f"Invalid 'port' value: '{text}'")
                values["port"] = int(text)
            elif name == "username":
                values["username"] = self.replace(_text(child))
            elif name == "authentication":
                word = _text(child)
                if word in AUTH_TYPES:
                    auth.append(AUTH_TYPES[word])
            elif name == "socketType":
                word = _text(child)
                if word not in SECURITY:
                    raise AndroidRejects(f"Unknown 'socketType' value: '{word}'")
                values["security"] = SECURITY[word]
        for key in ("hostname", "port", "username"):
            if key not in values:
                raise AndroidRejects(f"Missing '{key}' element")
        if not auth:
            raise AndroidRejects("No usable 'authentication' element found")
        if "security" not in values:
            raise AndroidRejects("Missing 'socketType' element")
        return AndroidServer(values["hostname"], values["port"], values["security"],
                             tuple(auth), values["username"])

    def provider(self, element: Any) -> AndroidSettings:
        provider_id = element.get("id")
        if provider_id is None:
            raise AndroidRejects("Missing 'emailProvider.id' attribute")
        if not _valid_hostname(provider_id):
            raise AndroidRejects("Invalid 'emailProvider.id' attribute")
        domain_found = False
        incoming: list[AndroidServer] = []
        outgoing: list[AndroidServer] = []
        for child in element:
            name = _local(child)
            if name == "domain":
                domain_found |= _valid_hostname(self.replace(_text(child)))
            elif name == "incomingServer" and child.get("type") == "imap":
                incoming.append(self.server(child))
            elif name == "outgoingServer" and child.get("type") == "smtp":
                outgoing.append(self.server(child))
        if not domain_found:
            raise AndroidRejects("Valid 'domain' element required")
        if not incoming:
            raise AndroidRejects("No supported 'incomingServer' element found")
        if not outgoing:
            raise AndroidRejects("No supported 'outgoingServer' element found")
        return AndroidSettings(tuple(incoming), tuple(outgoing))


def read_android(xml: bytes, address: str) -> AndroidSettings:
    """What Thunderbird for Android sets up for ``address`` from these bytes."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        raise AndroidRejects(f"Error parsing Autoconfig XML: {error}") from None
    if _local(root) != "clientConfig":
        raise AndroidRejects("Missing 'clientConfig' element")
    result = None
    reader = _Reader(address)
    for child in root:
        if _local(child) == "emailProvider":
            result = reader.provider(child)
    if result is None:
        raise AndroidRejects("Missing 'emailProvider' element")
    return result
