"""ExchangeAutoDiscover.sys.mjs: a POX response (Outlook 2006a schema) as Thunderbird reads it."""

from __future__ import annotations

from typing import Any

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
    found: dict[str, list[Server]] = {"incoming": [], "outgoing": []}
    skipped: list[SkippedServer] = []
    other: list[str] = []
    for index, view in enumerate(jxon.items(account, "Protocol")):
        kind = jxon.get(view, "Type")
        if kind not in ("IMAP", "POP3", "SMTP"):
            other.append(js_str(kind))
            continue
        direction = "outgoing" if kind == "SMTP" else "incoming"
        try:
            found[direction].append(_read_protocol(view, str(kind).lower()))
        except ThunderbirdRejects as failure:
            skipped.append(SkippedServer(direction, index, str(failure)))
    # AccountConfig.isComplete(): the first incoming server must be whole; with no SMTP
    # entry the outgoing side is "use the global preferred server". Exchange-only answers
    # (EXCH, EXHTTP, WEB) are not modelled and count as having no incoming server here.
    first = [servers[0] for servers in found.values() if servers]
    if not found["incoming"] or not all(server.port for server in first):
        raise ThunderbirdRejects("No valid configs found in AutoDiscover XML")
    verb = "settings" if action is UNDEF else js_str(action)
    incoming, outgoing = tuple(found["incoming"]), tuple(found["outgoing"])
    return AutodiscoverResult(verb, incoming, outgoing, None, tuple(skipped), tuple(other))
