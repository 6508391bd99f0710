"""PACC: the JSON configuration document of draft-ietf-mailmaint-pacc, and its digest.

A client fetches ``https://ua-auto-config.<domain>/.well-known/user-agent-configuration.json``
and accepts it only if the SHA-256 digest of the exact bytes is published in DNS
(``_ua-auto-config.<domain> TXT "v=UAAC1; a=sha256; d=<base64>"``). So the bytes are
a pure function of the domain file and the domain: sorted keys, no timestamps.

Format: draft-ietf-mailmaint-pacc-02 (the revision whose text and implementations we
could read; -04 is the newest revision published), as docs/pacc.md explains. A text
protocol (imap, pop3, smtp) is a ``host`` only, meaning implicit TLS on the standard
port with the email address as login name; servers the format cannot say so are left
out (``unexpressible`` says why, for ``autoconfig check``). URL protocols (jmap, the
RFC 8620 session resource; caldav, carddav) carry a ``url``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from autoconfig.address import EmailAddress
from autoconfig.domains.records import (
    PLACEHOLDER_ADDRESS,
    STANDARD_PORTS,
    Auth,
    DomainConfig,
    Protocol,
    Security,
    Server,
)

WELL_KNOWN_PATH = "/.well-known/user-agent-configuration.json"
HOST_PREFIX = "ua-auto-config"
TXT_LABEL = "_ua-auto-config"
CONTENT_TYPE = "application/json"

# Methods PACC's "password" covers (any SASL mechanism that takes the password).
_PASSWORD_METHODS = frozenset({Auth.PASSWORD, Auth.PASSWORD_ENCRYPTED})


@dataclass(frozen=True, slots=True)
class Skipped:
    """A server of the file that the PACC document cannot carry, and why."""

    server: Server
    reason: str


def unexpressible(server: Server, oauth2_configured: bool) -> str | None:
    """Why PACC cannot describe ``server``, or None if it can."""
    standard = STANDARD_PORTS[(server.protocol, Security.TLS)]
    if server.security is not Security.TLS:
        return f"{server.security} is not implicit TLS, the only transport PACC can say"
    if server.port != standard:
        return f"port {server.port} is not {standard}, the one {server.protocol} port PACC says"
    if server.username != PLACEHOLDER_ADDRESS:
        return "the login name is not the email address, and PACC has no username field"
    usable = any(m in _PASSWORD_METHODS for m in server.auth) or (
        oauth2_configured and Auth.OAUTH2 in server.auth
    )
    if not usable:
        return f"{', '.join(server.auth)}: PACC knows only password and oauth-public"
    return None


def chosen_servers(config: DomainConfig) -> tuple[dict[Protocol, Server], list[Skipped]]:
    """The first expressible server per protocol (the file's order), and the rest skipped."""
    oauth2 = config.oauth2 is not None
    chosen: dict[Protocol, Server] = {}
    skipped: list[Skipped] = []
    for server in (*config.incoming, *config.outgoing):
        reason = unexpressible(server, oauth2)
        if reason is not None:
            skipped.append(Skipped(server, reason))
        elif server.protocol not in chosen:
            chosen[server.protocol] = server
    return chosen, skipped


def pacc_document(config: DomainConfig, domain: str) -> dict[str, Any]:
    """The document as data: ``protocols``, ``authentication``, ``info``."""
    address = EmailAddress("user", domain)
    chosen, _ = chosen_servers(config)
    protocols: dict[str, Any] = {
        protocol.value: {"host": server.host_for(address)}
        for protocol, server in chosen.items()
    }
    if config.jmap:
        protocols["jmap"] = {"url": config.jmap}
    if config.caldav:
        protocols["caldav"] = {"url": config.caldav}
    if config.carddav:
        protocols["carddav"] = {"url": config.carddav}
    authentication: dict[str, Any] = {}
    methods = {method for server in chosen.values() for method in server.auth}
    if methods & _PASSWORD_METHODS or config.caldav or config.carddav:  # DAV: HTTP Basic
        authentication["password"] = True
    if config.oauth2 is not None:
        authentication["oauth-public"] = {"issuer": config.oauth2.issuer}
    provider: dict[str, str] = {"name": config.name}
    if config.short_name:
        provider["shortName"] = config.short_name
    info: dict[str, Any] = {"provider": provider}
    if config.help_url:
        info["help"] = {"documentation": config.help_url}
    return {"protocols": protocols, "authentication": authentication, "info": info}


def render_pacc(config: DomainConfig, domain: str) -> bytes:
    """The exact bytes served for ``domain``: compact UTF-8 JSON, sorted keys, a final newline.

    Compact, because json's C encoder only does that: every served domain is rendered
    at each load, and hosters serve tens of thousands.
    """
    text = json.dumps(
        pacc_document(config, domain), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return (text + "\n").encode("utf-8")


def digest(body: bytes) -> str:
    """Base64 of the SHA-256 of ``body``: the ``d=`` of the TXT record."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def txt_value(body: bytes) -> str:
    """The TXT record's text for a document whose bytes are ``body``."""
    return f"v=UAAC1; a=sha256; d={digest(body)}"


def published_digests(texts: list[str]) -> list[str]:
    """The ``d=`` values of the ``v=UAAC1; a=sha256`` records among TXT ``texts``.

    Read as clients read them (docs/pacc.md): tags split at ``;``, names and the
    version case-insensitive; any record whose digest matches accepts the document.
    """
    found = []
    for text in texts:
        tags = {}
        for part in text.split(";"):
            key, sep, value = part.partition("=")
            if sep:
                tags[key.strip().lower()] = value.strip()
        if tags.get("v", "").upper() == "UAAC1" and tags.get("a", "").lower() == "sha256":
            found.append(tags.get("d", ""))
    return found
