"""A PACC client's reading of a document and its DNS digest, from the draft's format.

Independent of autoconfig's renderer: what draft-ietf-mailmaint-pacc-02 asks of a user
agent (-04 is the newest revision published; docs/pacc.md says where the -02 format was
read, and that -04's text was not available). The agent fetches
``https://ua-auto-config.<domain>/.well-known/user-agent-configuration.json``, keeps the
raw bytes, and accepts them only when a ``_ua-auto-config.<domain>`` TXT record
``v=UAAC1; a=sha256; d=<base64>`` holds their SHA-256 (a record's character-strings are
joined first, RFC 7208 section 3.3 style). Then the JSON is read: ``protocols`` whose
text protocols give a ``host`` (implicit TLS on the standard port, RFC 8314) and whose
HTTP protocols give a ``url``; ``authentication`` with ``password`` and ``oauth-public``
(its ``issuer`` an https URL, RFC 8414); ``info`` with ``provider.name``. The three
top-level members are required; unknown keys are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# RFC 8314 section 3.3 (IMAP 993, POP3 995) and section 3 (submissions 465).
IMPLICIT_TLS_PORTS = {"imap": 993, "pop3": 995, "smtp": 465}
URL_PROTOCOLS = ("jmap", "caldav", "carddav", "webdav")


class PaccRejects(Exception):
    """The user agent refuses the document, with the reason."""


@dataclass(frozen=True)
class TextServer:
    protocol: str
    host: str
    port: int
    implicit_tls: bool = True


@dataclass(frozen=True)
class PaccConfig:
    servers: dict[str, TextServer]
    urls: dict[str, str]
    password: bool
    oauth_issuer: str | None
    provider_name: str
    provider_short_name: str | None
    help_documentation: str | None


def txt_text(strings: list[bytes]) -> str:
    """One TXT record's character-strings, joined without separator."""
    return b"".join(strings).decode("utf-8")


def _tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = value.strip()
    return tags


def verify_digest(body: bytes, txt_records: list[list[bytes]]) -> None:
    """Raise PaccRejects unless one record holds the SHA-256 of exactly ``body``."""
    actual = hashlib.sha256(body).digest()
    for strings in txt_records:
        tags = _tags(txt_text(strings))
        if tags.get("v") != "UAAC1" or tags.get("a") != "sha256":
            continue
        try:
            expected = base64.b64decode(tags.get("d", ""), validate=True)
        except binascii.Error:
            continue
        if hmac.compare_digest(expected, actual):
            return
    raise PaccRejects("no _ua-auto-config TXT record matches the document's SHA-256")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PaccRejects(f"{where} is not a JSON object")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise PaccRejects(f"{where} is not a non-empty string")
    return value


def read_pacc(body: bytes) -> PaccConfig:
    """The settings a user agent takes from the (already verified) bytes."""
    try:
        document = _object(json.loads(body.decode("utf-8")), "the document")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PaccRejects(f"not UTF-8 JSON: {error}") from None
    for key in ("protocols", "authentication", "info"):  # the three members are required
        if key not in document:
            raise PaccRejects(f"the document has no {key!r} member")
    protocols = _object(document["protocols"], "protocols")
    servers = {}
    for name, port in IMPLICIT_TLS_PORTS.items():
        if name in protocols:
            entry = _object(protocols[name], f"protocols.{name}")
            servers[name] = TextServer(name, _string(entry.get("host"), f"{name}.host"), port)
    urls = {}
    for name in URL_PROTOCOLS:
        if name in protocols:
            url = _string(_object(protocols[name], name).get("url"), f"{name}.url")
            if urlsplit(url).scheme not in ("https", "http"):
                raise PaccRejects(f"{name}.url is not an http(s) URL")
            urls[name] = url
    authentication = _object(document["authentication"], "authentication")
    password = authentication.get("password") is True
    issuer = None
    if "oauth-public" in authentication:
        oauth = _object(authentication["oauth-public"], "oauth-public")
        issuer = _string(oauth.get("issuer"), "oauth-public.issuer")
        if urlsplit(issuer).scheme != "https":
            raise PaccRejects("oauth-public.issuer is not an https URL (RFC 8414)")
    info = _object(document["info"], "info")
    provider = _object(info.get("provider"), "info.provider")
    name = _string(provider.get("name"), "info.provider.name")
    help_ = _object(info.get("help", {}), "info.help")
    return PaccConfig(
        servers, urls, password, issuer, name, provider.get("shortName"),
        help_.get("documentation"),
    )
