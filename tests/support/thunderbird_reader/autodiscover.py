"""ExchangeAutoDiscover.sys.mjs: a POX response (Outlook 2006a schema) as Thunderbird reads it.

The WEB, EXCH and EXHTTP handling follows the file at commit cf9726f563 (2026-08, 156.0a1),
unchanged in this respect since the Exchange support of Thunderbird 150.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.support.thunderbird_reader import jxon, sanitize
from tests.support.thunderbird_reader.jsvalues import UNDEF, falsy, js_str
from tests.support.thunderbird_reader.model import (
    AUTH_CLEARTEXT,
    AUTH_SECURE,
    MSG_NO_AUTODISCOVER,
    SOCKET_PLAIN,
    SOCKET_SSL,
    SOCKET_STARTTLS,
    AutodiscoverErrorResponse,
    AutodiscoverResult,
    Pop3Options,
    Server,
    SkippedServer,
    ThunderbirdRejects,
)


def _lower(view: Any, key: str) -> str | None:
    if not jxon.has(view, key):
        return None
    if not isinstance(view[key], str):
        raise ThunderbirdRejects(f"TypeError: {key}.toLowerCase is not a function")
    return str(view[key]).lower()


def _read_protocol(view: Any, kind: str) -> Server:
    hostname = sanitize.hostname(jxon.get(view, "Server"))
    port = sanitize.integer(jxon.get(view, "Port"))  # no range check in this reader
    if _lower(view, "SSL") == "off" or _lower(view, "Encryption") == "none":
        socket_type = SOCKET_PLAIN
    else:  # Encryption SSL/TLS/Auto is never looked at: the port decides
        socket_type = SOCKET_STARTTLS if port in (143, 110, 25, 587) else SOCKET_SSL
    auth = AUTH_SECURE if _lower(view, "SPA") == "on" else AUTH_CLEARTEXT
    login = jxon.get(view, "LoginName")
    username = "%EMAILADDRESS%" if login is UNDEF else sanitize.nonempty(login)
    pop3 = Pop3Options() if kind == "pop3" else None
    return Server(kind, hostname, port, socket_type, auth, (auth,), username, pop3_options=pop3)


_FIELDS = (
    "type", "hostname", "port", "socket_type", "auth", "username", "pop3_options",
    "exchange_url", "owa_url",
)


def _url(value: Any) -> str:
    text = js_str(value)
    if not text.startswith(("http:", "https:")) or not urlsplit(text).hostname:
        raise ThunderbirdRejects("URL scheme not allowed", value)
    return text


def _read_exchange(view: Any, kind: str) -> dict[str, Any]:
    """WEB: ``External`` (else ``Internal``) ``OWAUrl.value`` (so the element needs an
    attribute, or ``.value`` is undefined); EXCH/EXHTTP: ``EwsUrl``. Each sets the
    type exchange and the URL's host (and port when the URL names one)."""
    changes: dict[str, Any] = {"type": "exchange"}
    if kind == "WEB":
        urls = jxon.get(view, "External")
        if urls is UNDEF:
            urls = jxon.get(view, "Internal")
        if urls is UNDEF:
            return {}
        url = _url(jxon.get(jxon.get(urls, "OWAUrl"), "value"))
        changes["owa_url"] = url
    else:
        url = _url(jxon.get(view, "EwsUrl"))
        changes["exchange_url"] = url
    parts = urlsplit(url)
    changes["hostname"] = sanitize.hostname(parts.hostname)
    if parts.port is not None:
        changes["port"] = parts.port
    return changes


def read_autodiscover_pox(xml: bytes) -> AutodiscoverResult:
    """Read a POX response as Thunderbird does (with no login name typed in by the user, so
    a missing LoginName becomes ``%EMAILADDRESS%``). Raises :class:`AutodiscoverErrorResponse`
    for ``Error`` bodies, :class:`ThunderbirdRejects` when Thunderbird finds nothing usable."""
    response = jxon.get(jxon.get(jxon.load(xml), "Autodiscover"), "Response")
    account = jxon.get(response, "Account")
    for holder in (response, account):  # MS-OXDSCLI: under Response; older pages: Account
        if (error := jxon.get(holder, "Error")) is not UNDEF:
            text = jxon.get(error, "Message")
            code = js_str(jxon.get(error, "ErrorCode"))
            raise AutodiscoverErrorResponse(code, "" if text is UNDEF else js_str(text))
    address = jxon.get(account, "RedirectAddr")
    if not falsy(address):  # followed, whatever Action says
        if not sanitize.EMAIL.fullmatch(sanitize.nonempty(address)):
            raise ThunderbirdRejects("Not a valid e-mail address", address)
        return AutodiscoverResult("redirectAddr", redirect=js_str(address).lower())
    action = jxon.get(account, "Action")
    if not jxon.items(account, "Protocol"):
        if action == "redirectUrl" or jxon.get(account, "RedirectUrl") is not UNDEF:
            url = js_str(jxon.get(account, "RedirectUrl"))
            return AutodiscoverResult("redirectUrl", redirect=url)
        raise ThunderbirdRejects(MSG_NO_AUTODISCOVER)
    # readAutoDiscoverXML starts from an incoming server of type exchange-to-be: port 443,
    # SSL, cleartext password, no hostname. WEB, EXCH and EXHTTP change that object in
    # place (type "exchange", hostname and URLs), whatever it holds by then: a Protocol
    # of these types after an IMAP one rewrites the IMAP server. IMAP/POP3 take the
    # place only while it has no hostname; later ones become alternatives.
    first: dict[str, Any] = {
        "type": "imap", "hostname": None, "port": 443, "socket_type": SOCKET_SSL,
        "auth": AUTH_CLEARTEXT, "username": "%EMAILADDRESS%",
    }
    alternatives: list[Server] = []
    outgoing: list[Server] = []
    skipped: list[SkippedServer] = []
    other: list[str] = []
    for index, view in enumerate(jxon.items(account, "Protocol")):
        kind = jxon.get(view, "Type")
        if kind in ("WEB", "EXCH", "EXHTTP"):
            try:
                first.update(_read_exchange(view, str(kind)))
            except ThunderbirdRejects as failure:
                skipped.append(SkippedServer("incoming", index, str(failure)))
            continue
        if kind not in ("IMAP", "POP3", "SMTP"):
            other.append(js_str(kind))
            continue
        direction = "outgoing" if kind == "SMTP" else "incoming"
        try:
            server = _read_protocol(view, str(kind).lower())
        except ThunderbirdRejects as failure:
            skipped.append(SkippedServer(direction, index, str(failure)))
            continue
        if direction == "outgoing":
            outgoing.append(server)
        elif first["hostname"] is None:
            first = {field: getattr(server, field) for field in _FIELDS}
        else:
            alternatives.append(server)
    # AccountConfig.isComplete(): the first incoming server must be whole; with no SMTP
    # entry the outgoing side is "use the global preferred server".
    if first["hostname"] is None or (outgoing and not outgoing[0].port):
        raise ThunderbirdRejects("No valid configs found in AutoDiscover XML")
    auth = first["auth"]
    incoming = (Server(**first, auth_alternatives=(auth,)), *alternatives)
    verb = "settings" if action is UNDEF else js_str(action)
    return AutodiscoverResult(verb, incoming, tuple(outgoing), None, tuple(skipped), tuple(other))
