"""Thunderbird's readers of autoconfig and Autodiscover XML, restated in Python for tests.

A "real client" oracle: given the bytes our server sends, say what Thunderbird would make
of them. Written from (not copied from) ``mozilla/releases-comm-central``:
``mail/components/accountcreation/modules/readFromXML.sys.mjs`` (commit 1457122d48),
``Sanitizer.sys.mjs``, ``ExchangeAutoDiscover.sys.mjs`` and ``FetchHTTP.sys.mjs``
(058114d348), ``AccountConfig.sys.mjs`` (00e3320bc7: defaults, ``isComplete``),
``mailnews/base/src/JXON.sys.mjs`` (1ae693417e), ``hostnameUtils.sys.mjs`` (02194537f1),
``OAuth2Providers.sys.mjs`` (via :mod:`autoconfig.thunderbird_oauth`); reasons are the en-US
texts of ``accountCreationModel.properties`` and ``accountCreationUtil.properties``.

Thunderbird reads a JXON view of the DOM, and so does this module: elements are keyed by
qualified name (namespace URIs ignored, prefixes not); ``xmlns`` declarations count as
attributes; text is not trimmed; text spelling ``true``/``false`` in any case becomes a
boolean, numeric text a number (``" 993 "`` → 993, ``"007"`` → 7), whitespace-only text
NaN, an empty element ``true``, an element with attributes or children an object. Values
are turned back into strings the JavaScript way, so a missing ``displayName`` or incoming
``username`` reads ``"undefined"`` and ``<username/>`` reads ``"true"``, as in Thunderbird.
Not copied: JXON's date parsing, entity expansion (the parser here is locked down), and
JavaScript's exponent spelling of non-integer numbers.

``socket_type`` and ``auth`` use Thunderbird's constant names (``nsMsgSocketType``: plain,
alwaysSTARTTLS, SSL; ``nsMsgAuthMethod``: none, passwordCleartext, passwordEncrypted,
GSSAPI, NTLM, OAuth2, secure); the ``XML_*`` tables map autoconfig words onto them.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any, Final

from lxml import etree

from autoconfig.thunderbird_oauth import (  # the host list is re-exported for tests
    THUNDERBIRD_OAUTH2_HOSTNAMES,  # noqa: F401
    thunderbird_oauth2_issuer,
)

SOCKET_PLAIN: Final = "plain"
SOCKET_STARTTLS: Final = "alwaysSTARTTLS"
SOCKET_SSL: Final = "SSL"
AUTH_NONE: Final = "none"
AUTH_CLEARTEXT: Final = "passwordCleartext"
AUTH_ENCRYPTED: Final = "passwordEncrypted"
AUTH_OAUTH2: Final = "OAuth2"
AUTH_SECURE: Final = "secure"  # Autodiscover SPA=on: NTLM or Kerberos

XML_SOCKET_TYPES: Final[Mapping[str, str]] = {
    "plain": SOCKET_PLAIN,
    "SSL": SOCKET_SSL,
    "STARTTLS": SOCKET_STARTTLS,
}
# Incoming: no "none", "client-IP-address", "smtp-after-pop" (nor "TLS-client-cert" anywhere).
XML_INCOMING_AUTH: Final[Mapping[str, str]] = {
    "password-cleartext": AUTH_CLEARTEXT,
    "plain": AUTH_CLEARTEXT,
    "password-encrypted": AUTH_ENCRYPTED,
    "secure": AUTH_ENCRYPTED,
    "GSSAPI": "GSSAPI",
    "NTLM": "NTLM",
    "OAuth2": AUTH_OAUTH2,
}
XML_OUTGOING_AUTH: Final[Mapping[str, str]] = dict.fromkeys(
    ("none", "client-IP-address", "smtp-after-pop"), AUTH_NONE
) | dict(XML_INCOMING_AUTH)

MSG_NO_EMAIL_PROVIDER: Final = (
    "The config file XML does not contain an email account configuration."
)
MSG_OUTGOING_NOT_SMTP: Final = "The outgoing server must be of type SMTP"
MSG_NO_AUTODISCOVER: Final = "The Exchange AutoDiscover XML is invalid."
MSG_NOT_ALLOWED: Final = "Supplied value not in allowed list"
MSG_HOSTNAME: Final = (
    "Hostname is empty or contains forbidden characters. "
    "Only letters, numbers, - and . are allowed."
)


class ThunderbirdRejects(Exception):
    """Thunderbird would not use this document or server; ``reason`` is its own message."""

    def __init__(self, reason: str, bad_value: object = None) -> None:
        self.reason = reason
        extra = "" if bad_value is None else f" (bad value: {_js_str(bad_value)!r})"
        super().__init__(reason + extra)


class AutodiscoverErrorResponse(Exception):
    """A POX ``Error`` response (Thunderbird itself just finds no settings in it)."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"Autodiscover error {code}: {message}")


@dataclass(frozen=True)
class Pop3Options:
    """POP3 settings as Thunderbird applies them (its defaults where not given)."""

    leave_messages_on_server: bool = True
    days_to_leave_messages_on_server: int = 14
    download_on_biff: bool = True


@dataclass(frozen=True)
class Server:
    """A server Thunderbird accepted. ``auth`` is the method it uses; ``auth_alternatives``
    is every accepted method in document order, ``auth`` first (Thunderbird keeps one)."""

    type: str
    hostname: str
    port: int
    socket_type: str
    auth: str
    auth_alternatives: tuple[str, ...]
    username: str | None
    password: str | None = None
    pop3_options: Pop3Options | None = None
    use_global_preferred_server: bool = False


@dataclass(frozen=True)
class SkippedServer:
    direction: str  # "incoming" or "outgoing"
    index: int  # among the server elements (POX: Protocol elements), from 0
    reason: str


@dataclass(frozen=True)
class ClientConfig:
    id: str
    domains: tuple[str, ...]
    display_name: str
    incoming: tuple[Server, ...]  # first = Thunderbird's choice, then the alternatives
    outgoing: tuple[Server, ...]
    skipped: tuple[SkippedServer, ...] = ()


@dataclass(frozen=True)
class AutodiscoverResult:
    """``action``: ``settings``; ``redirectAddr`` (Thunderbird restarts discovery for the
    address in ``redirect``); ``redirectUrl`` (Thunderbird does not follow it: it fails)."""

    action: str
    incoming: tuple[Server, ...] = ()
    outgoing: tuple[Server, ...] = ()
    redirect: str | None = None
    skipped: tuple[SkippedServer, ...] = ()
    other_types: tuple[str, ...] = ()  # Protocol Types not modelled (EXCH, EXHTTP, WEB, …)

    @property
    def thunderbird_follows_redirect(self) -> bool:
        return self.action == "redirectAddr"


# --- the JXON view (JXON.sys.mjs, built by FetchHTTP.sys.mjs) -------------------------


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"


_UNDEF: Final = _Undefined()
_JS_SPACE: Final = "\t\n\v\f\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_DECIMAL: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.A)
_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _parse_text(text: str) -> Any:
    if re.fullmatch(r"true|false", text, re.I | re.A):
        return text.lower() == "true"
    core = text.strip(_JS_SPACE)
    if not core:
        return math.nan  # isFinite("") holds but parseFloat("") is NaN
    if re.fullmatch(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+", core, re.A):
        return 0.0  # parseFloat stops after the leading "0"
    if _DECIMAL.fullmatch(core) and math.isfinite(number := float(core)):
        return number
    return text


def _name(clark: str, prefix: str | None) -> str:
    """A DOM nodeName: the prefix as written plus the local name; the URI plays no part."""
    local = etree.QName(clark).localname
    return f"{prefix}:{local}" if prefix else local


def _attribute_prefix(element: Any, clark: str) -> str | None:
    uri = etree.QName(clark).namespace
    if uri == "http://www.w3.org/XML/1998/namespace":
        return "xml"
    return next((p for p, known in element.nsmap.items() if p and uri and known == uri), None)


def _jxon(element: Any) -> Any:
    text, children = element.text or "", []
    for child in element:
        text += child.tail or ""
        if isinstance(child.tag, str):  # comments and PIs are skipped, their tails kept
            children.append(child)
    parent = element.getparent()
    inherited = parent.nsmap if parent is not None else {}
    attributes = [
        ("xmlns" if prefix is None else f"xmlns:{prefix}", uri)
        for prefix, uri in element.nsmap.items()
        if inherited.get(prefix) != uri
    ] + [
        (_name(key, _attribute_prefix(element, key)), value)
        for key, value in element.attrib.items()
    ]
    if element.text is None and not len(element) and not attributes:
        return True
    view: dict[str, Any] = {}
    for child in children:
        name = _name(child.tag, child.prefix)
        name += "_" if name in ("value", "attr") else ""
        view.setdefault(name, content := _jxon(child))
        view.setdefault("$" + name, []).append(content)
    view.update(("@" + name, _parse_text(value)) for name, value in attributes)
    if text and not (children or attributes):
        return _parse_text(text)
    if text:
        view["value"] = _parse_text(text)
    return view


def _load(xml: bytes) -> dict[str, Any]:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as error:
        raise ThunderbirdRejects("Bad response content", str(error)) from error
    return {_name(root.tag, root.prefix): _jxon(root)}


def _get(view: Any, key: str) -> Any:
    return view.get(key, _UNDEF) if isinstance(view, dict) else _UNDEF


def _has(view: Any, key: str) -> bool:
    """JavaScript's ``key in view``, which throws unless ``view`` is an object."""
    if not isinstance(view, dict):
        raise ThunderbirdRejects(f"TypeError: cannot use 'in' to search for {key!r}")
    return key in view


def _items(view: Any, key: str) -> list[Any]:
    found = _get(view, "$" + key)
    return found if isinstance(found, list) else []


# --- JavaScript's String() and Sanitizer.sys.mjs / hostnameUtils.sys.mjs -------------


def _js_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return {dict: "[object Object]", _Undefined: "undefined"}.get(type(value), str(value))


def _falsy(value: Any) -> bool:
    number = isinstance(value, float) and (value == 0 or math.isnan(value))
    return value is _UNDEF or value is False or value == "" or number


def _nonempty(value: Any) -> str:
    if _falsy(value):
        raise ThunderbirdRejects("You must supply a value for this string", value)
    return _js_str(value)


def _ipv4(host: str) -> tuple[int, ...] | None:
    parts = host.split(".")
    if len(parts) != 4 or not all(re.fullmatch(r"0|[1-9][0-9]{0,9}", p, re.A) for p in parts):
        return None
    octets = tuple(map(int, parts))
    return None if max(octets) > 255 or octets[0] == 0 else octets


def _ipv6(host: str) -> bool:
    """hostnameUtils: eight groups with one "::" gap, IPv4 tail allowed, no zone, not ::."""
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return "%" not in host and int(address) != 0


_PLACEHOLDER_HOST: Final = re.compile(r"[a-zA-Z0-9\-.]*(?:%[A-Z0-9]+%[a-zA-Z0-9\-.]*)+", re.A)
_LABEL: Final = r"(?:[a-z0-9]|[a-z0-9][a-z0-9\-]{0,61}[a-z0-9])"
_HOST: Final = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?", re.A | re.I)
_EMAIL: Final = re.compile(r"[a-z0-9\-%+_.*]+@[a-z0-9\-.]+\.[a-z]+", re.A | re.I)


def _hostname(value: Any) -> str:
    host = _nonempty(value).strip(_JS_SPACE)
    if _PLACEHOLDER_HOST.fullmatch(host):
        return host  # e.g. mail.%EMAILDOMAIN%, kept as written
    if not (_ipv4(host) or _ipv6(host) or (len(host) <= 255 and _HOST.fullmatch(host))):
        raise ThunderbirdRejects(MSG_HOSTNAME, value)
    return host.lower()


def _integer(value: Any, low: float = -math.inf, high: float = math.inf) -> int:
    if isinstance(value, float) and not math.isnan(value):
        number = math.trunc(value)
    else:  # JavaScript's parseInt
        text = _js_str(value).lstrip(_JS_SPACE)
        sign, text = (-1 if text[:1] == "-" else 1), text[1:] if text[:1] in ("+", "-") else text
        hexa = text[:2] in ("0x", "0X")
        digits = re.match(r"[0-9a-fA-F]+" if hexa else r"[0-9]+", text[2:] if hexa else text)
        if digits is None:
            raise ThunderbirdRejects("Not a number", value)
        number = sign * int(digits.group(), 16 if hexa else 10)
    if number < low:
        raise ThunderbirdRejects("Number too small", value)
    if number > high:
        raise ThunderbirdRejects("Number too large", value)
    return number


def _boolean(view: Any, key: str, default: bool) -> bool:
    """Sanitizer.boolean of ``view[key]`` if present (``in`` failing on a non-object keeps
    the default); raises on anything but a boolean or "true"/"false"."""
    try:
        value = view[key] if _has(view, key) else default
    except ThunderbirdRejects:
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise ThunderbirdRejects("Not a boolean", value)


def _translate(value: Any, mapping: Mapping[str, str]) -> str:
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    raise ThunderbirdRejects(MSG_NOT_ALLOWED, value)


# --- readFromXML.sys.mjs -------------------------------------------------------------


def _auth_methods(view: Any, hostname: str, kind: str, table: Mapping[str, str]) -> list[str]:
    accepted: list[str] = []
    error = ThunderbirdRejects("need proper <authentication> in XML")
    for value in _items(view, "authentication"):
        try:
            method = _translate(value, table)
            if method == AUTH_OAUTH2 and thunderbird_oauth2_issuer(hostname, kind) is None:
                raise ThunderbirdRejects(f"Lacking OAuth2 config for {hostname}")
        except ThunderbirdRejects as failure:
            error = failure
            continue
        if method not in accepted:
            accepted.append(method)
    if not accepted:
        raise error
    return accepted


def _pop3_options(view: Any) -> Pop3Options:
    leave, days, biff = True, 14, True
    if _has(view, "pop3"):
        pop3 = view["pop3"]
        with suppress(ThunderbirdRejects):  # as in TB, a bad leaveMessages... skips the days
            leave = _boolean(pop3, "leaveMessagesOnServer", leave)
            if _has(pop3, "daysToLeaveMessagesOnServer"):
                days = _integer(pop3["daysToLeaveMessagesOnServer"])
        with suppress(ThunderbirdRejects):
            biff = _boolean(pop3, "downloadOnBiff", biff)
    return Pop3Options(leave, days, biff)


def _read_server(view: Any, outgoing: bool) -> Server:
    if outgoing and _get(view, "@type") != "smtp":
        raise ThunderbirdRejects(MSG_OUTGOING_NOT_SMTP)
    incoming_types = {t: t for t in ("pop3", "imap", "nntp", "exchange")}
    kind = "smtp" if outgoing else _translate(_get(view, "@type"), incoming_types)
    hostname = _hostname(_get(view, "hostname"))
    port = _integer(_get(view, "port"), 1, 65535)
    username = None if outgoing else _js_str(_get(view, "username"))
    password = _js_str(view["password"]) if _has(view, "password") else None
    error = ThunderbirdRejects("need proper <socketType> in XML")
    for value in _items(view, "socketType"):  # the first one Thunderbird knows wins
        try:
            socket_type = _translate(value, XML_SOCKET_TYPES)
            break
        except ThunderbirdRejects as failure:
            error = failure
    else:
        raise error
    table = XML_OUTGOING_AUTH if outgoing else XML_INCOMING_AUTH
    methods = _auth_methods(view, hostname, kind, table)
    if outgoing and (_has(view, "username") or methods[0] in (AUTH_CLEARTEXT, AUTH_ENCRYPTED)):
        username = _js_str(_get(view, "username"))
    pop3 = _pop3_options(view) if kind == "pop3" else None
    auth = methods[0]
    alternatives = tuple(methods)
    server = Server(kind, hostname, port, socket_type, auth, alternatives, username, password, pop3)
    with suppress(ThunderbirdRejects):
        global_server = _boolean(view, "useGlobalPreferredServer", False)
        server = replace(server, use_global_preferred_server=global_server)
    return server


def read_client_config(xml: bytes) -> ClientConfig:
    """Read a clientConfig document as readFromXML does, or raise :class:`ThunderbirdRejects`
    with Thunderbird's reason (when no incoming or outgoing server is left: the reason the
    last one was skipped)."""
    client_config = _get(_load(xml), "clientConfig")
    if not isinstance(client_config, dict) or "emailProvider" not in client_config:
        raise ThunderbirdRejects(MSG_NO_EMAIL_PROVIDER)
    provider = client_config["emailProvider"]
    config_id = _hostname(_get(provider, "@id"))
    domains: list[str] = []
    error = ThunderbirdRejects("need proper <domain> in XML")
    for value in _items(provider, "domain"):
        try:
            domains.append(_hostname(value))
        except ThunderbirdRejects as failure:
            error = failure
    if not domains:
        raise error
    found: dict[str, list[Server]] = {"incoming": [], "outgoing": []}
    skipped: list[SkippedServer] = []
    for direction, servers in found.items():
        error = ThunderbirdRejects(f"Need proper <{direction}Server> in XML file")
        for index, view in enumerate(_items(provider, f"{direction}Server")):
            try:
                servers.append(_read_server(view, direction == "outgoing"))
            except ThunderbirdRejects as failure:
                error = failure
                skipped.append(SkippedServer(direction, index, str(failure)))
        if not servers:
            raise error
    name = _js_str(_get(provider, "displayName"))
    incoming, outgoing = tuple(found["incoming"]), tuple(found["outgoing"])
    return ClientConfig(config_id, tuple(domains), name, incoming, outgoing, tuple(skipped))


# --- ExchangeAutoDiscover.sys.mjs: POX responses, Outlook 2006a schema ----------------


def _lower(view: Any, key: str) -> str | None:
    if not _has(view, key):
        return None
    if not isinstance(view[key], str):
        raise ThunderbirdRejects(f"TypeError: {key}.toLowerCase is not a function")
    return str(view[key]).lower()


def _read_protocol(view: Any, kind: str) -> Server:
    hostname = _hostname(_get(view, "Server"))
    port = _integer(_get(view, "Port"))  # no range check in this reader
    if _lower(view, "SSL") == "off" or _lower(view, "Encryption") == "none":
        socket_type = SOCKET_PLAIN
    else:  # Encryption SSL/TLS/Auto is never looked at: the port decides
        socket_type = SOCKET_STARTTLS if port in (143, 110, 25, 587) else SOCKET_SSL
    auth = AUTH_SECURE if _lower(view, "SPA") == "on" else AUTH_CLEARTEXT
    login = _get(view, "LoginName")
    username = "%EMAILADDRESS%" if login is _UNDEF else _nonempty(login)
    pop3 = Pop3Options() if kind == "pop3" else None
    return Server(kind, hostname, port, socket_type, auth, (auth,), username, pop3_options=pop3)


def read_autodiscover_pox(xml: bytes) -> AutodiscoverResult:
    """Read a POX response as Thunderbird does (with no login name typed in by the user, so
    a missing LoginName becomes ``%EMAILADDRESS%``). Raises :class:`AutodiscoverErrorResponse`
    for ``Error`` bodies, :class:`ThunderbirdRejects` when Thunderbird finds nothing usable."""
    response = _get(_get(_load(xml), "Autodiscover"), "Response")
    account = _get(response, "Account")
    for holder in (response, account):  # MS-OXDSCLI: under Response; older pages: Account
        if (error := _get(holder, "Error")) is not _UNDEF:
            text = _get(error, "Message")
            code = _js_str(_get(error, "ErrorCode"))
            raise AutodiscoverErrorResponse(code, "" if text is _UNDEF else _js_str(text))
    address = _get(account, "RedirectAddr")
    if not _falsy(address):  # followed, whatever Action says
        if not _EMAIL.fullmatch(_nonempty(address)):
            raise ThunderbirdRejects("Not a valid e-mail address", address)
        return AutodiscoverResult("redirectAddr", redirect=_js_str(address).lower())
    action = _get(account, "Action")
    if not _items(account, "Protocol"):
        if action == "redirectUrl" or _get(account, "RedirectUrl") is not _UNDEF:
            return AutodiscoverResult("redirectUrl", redirect=_js_str(_get(account, "RedirectUrl")))
        raise ThunderbirdRejects(MSG_NO_AUTODISCOVER)
    found: dict[str, list[Server]] = {"incoming": [], "outgoing": []}
    skipped: list[SkippedServer] = []
    other: list[str] = []
    for index, view in enumerate(_items(account, "Protocol")):
        kind = _get(view, "Type")
        if kind not in ("IMAP", "POP3", "SMTP"):
            other.append(_js_str(kind))
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
    verb = "settings" if action is _UNDEF else _js_str(action)
    incoming, outgoing = tuple(found["incoming"]), tuple(found["outgoing"])
    return AutodiscoverResult(verb, incoming, outgoing, None, tuple(skipped), tuple(other))
