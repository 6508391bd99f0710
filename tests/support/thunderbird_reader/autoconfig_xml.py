"""readFromXML.sys.mjs: a clientConfig document as Thunderbird reads it.

Two versions: before 150 (commit 1457122d48) every incoming server needs ``hostname``
and ``port`` and its type is one of pop3, imap, nntp, exchange; from 150 on (commit
22b9b4c15b, bug 1995836, version.txt 150.0a1) the types ews and owa are accepted too,
``hostname`` and ``port`` are optional, a ``<url>`` gives the host (``URL.host``, so
with a non-default port, which the hostname check refuses) and the socket type (from
the scheme), ``readAuthentication`` refuses a server without a hostname, and an ews
server's ``exchangeURL`` is its ``<url>``. The graph type behind the
``mail.graph.enabled`` preference is not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from tests.support.thunderbird_reader import jxon, sanitize
from tests.support.thunderbird_reader.jsvalues import js_str
from tests.support.thunderbird_reader.model import (
    AUTH_CLEARTEXT,
    AUTH_ENCRYPTED,
    AUTH_OAUTH2,
    MSG_NO_EMAIL_PROVIDER,
    MSG_OUTGOING_NOT_SMTP,
    XML_INCOMING_AUTH,
    XML_OUTGOING_AUTH,
    XML_SOCKET_TYPES,
    ClientConfig,
    Pop3Options,
    Server,
    SkippedServer,
    ThunderbirdRejects,
)
from tests.support.thunderbird_reader.oauth_providers import oauth2_issuer


def _auth_methods(view: Any, hostname: str, kind: str, table: Mapping[str, str]) -> list[str]:
    accepted: list[str] = []
    error = ThunderbirdRejects("need proper <authentication> in XML")
    for value in jxon.items(view, "authentication"):
        try:
            method = sanitize.translate(value, table)
            if method == AUTH_OAUTH2 and oauth2_issuer(hostname, kind) is None:
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
    if jxon.has(view, "pop3"):
        pop3 = view["pop3"]
        with suppress(ThunderbirdRejects):  # as in TB, a bad leaveMessages... skips the days
            leave = sanitize.boolean(pop3, "leaveMessagesOnServer", leave)
            if jxon.has(pop3, "daysToLeaveMessagesOnServer"):
                days = sanitize.integer(pop3["daysToLeaveMessagesOnServer"])
        with suppress(ThunderbirdRejects):
            biff = sanitize.boolean(pop3, "downloadOnBiff", biff)
    return Pop3Options(leave, days, biff)


_TYPES_BEFORE_150 = ("pop3", "imap", "nntp", "exchange")
_TYPES_150 = (*_TYPES_BEFORE_150, "ews", "owa")


def _url(value: Any) -> str:
    """InputSanitizer.url for http(s): the scheme checked, an empty path spelled "/"."""
    text = js_str(value)
    if not (text.startswith(("http:", "https:"))):
        raise ThunderbirdRejects("URL scheme not allowed", value)
    parts = urlsplit(text)
    if not parts.hostname:
        raise ThunderbirdRejects("URL not parseable", value)
    return text if parts.path else text + "/"


def _url_host(url: str) -> str:
    """``new URL(url).host``: the host, with the port when it is not the scheme's default."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    port = parts.port
    return f"{parts.hostname}" if port in (None, default) else f"{parts.hostname}:{port}"


def _read_url(view: Any) -> tuple[str | None, str | None, str | None]:
    """The 150+ ``<url>`` step: URL, hostname and socket type, or Nones when it fails
    (Thunderbird logs the error and goes on)."""
    try:
        url = _url(jxon.get(view, "url"))
        hostname = sanitize.hostname(_url_host(url))
    except ThunderbirdRejects:
        return None, None, None
    scheme = urlsplit(url).scheme
    return url, hostname, XML_SOCKET_TYPES["SSL" if scheme == "https" else "plain"]


def _read_server(view: Any, outgoing: bool, version: int) -> Server:
    if outgoing and jxon.get(view, "@type") != "smtp":
        raise ThunderbirdRejects(MSG_OUTGOING_NOT_SMTP)
    modern = version >= 150 and not outgoing
    types = _TYPES_150 if modern else _TYPES_BEFORE_150
    known = {t: t for t in types}
    kind = "smtp" if outgoing else sanitize.translate(jxon.get(view, "@type"), known)
    hostname: str | None = None
    port: int | None = None
    url = socket_type = None
    if not modern or jxon.has(view, "hostname"):
        hostname = sanitize.hostname(jxon.get(view, "hostname"))
    if not modern or jxon.has(view, "port"):
        port = sanitize.integer(jxon.get(view, "port"), 1, 65535)
    if modern and jxon.has(view, "url"):
        url, url_hostname, socket_type = _read_url(view)
        hostname = url_hostname or hostname
    username = None if outgoing else js_str(jxon.get(view, "username"))
    password = js_str(view["password"]) if jxon.has(view, "password") else None
    error = ThunderbirdRejects("need proper <socketType> in XML")
    for value in jxon.items(view, "socketType"):  # the first one Thunderbird knows wins
        try:
            socket_type = sanitize.translate(value, XML_SOCKET_TYPES)
            break
        except ThunderbirdRejects as failure:
            error = failure
    if socket_type is None:
        raise error
    if hostname is None:  # readAuthentication, 150+
        raise ThunderbirdRejects(f"No available hostname for server with type {kind}")
    table = XML_OUTGOING_AUTH if outgoing else XML_INCOMING_AUTH
    methods = _auth_methods(view, hostname, kind, table)
    if outgoing and (jxon.has(view, "username") or methods[0] in (AUTH_CLEARTEXT, AUTH_ENCRYPTED)):
        username = js_str(jxon.get(view, "username"))
    pop3 = _pop3_options(view) if kind == "pop3" else None
    auth = methods[0]
    alternatives = tuple(methods)
    exchange_url = None
    if kind == "ews":
        with suppress(ThunderbirdRejects):
            exchange_url = _url(jxon.get(view, "url"))
    server = Server(
        kind, hostname, port, socket_type, auth, alternatives, username, password, pop3,
        url=url, exchange_url=exchange_url,
    )
    with suppress(ThunderbirdRejects):
        global_server = sanitize.boolean(view, "useGlobalPreferredServer", False)
        server = replace(server, use_global_preferred_server=global_server)
    return server


def read_client_config(xml: bytes, *, version: int = 140) -> ClientConfig:
    """Read a clientConfig document as readFromXML does, or raise :class:`ThunderbirdRejects`
    with Thunderbird's reason (when no incoming or outgoing server is left: the reason the
    last one was skipped). ``version``: the Thunderbird major version (150 and later read
    URL-based servers such as ews)."""
    client_config = jxon.get(jxon.load(xml), "clientConfig")
    if not isinstance(client_config, dict) or "emailProvider" not in client_config:
        raise ThunderbirdRejects(MSG_NO_EMAIL_PROVIDER)
    provider = client_config["emailProvider"]
    config_id = sanitize.hostname(jxon.get(provider, "@id"))
    domains: list[str] = []
    error = ThunderbirdRejects("need proper <domain> in XML")
    for value in jxon.items(provider, "domain"):
        try:
            domains.append(sanitize.hostname(value))
        except ThunderbirdRejects as failure:
            error = failure
    if not domains:
        raise error
    found: dict[str, list[Server]] = {"incoming": [], "outgoing": []}
    skipped: list[SkippedServer] = []
    for direction, servers in found.items():
        error = ThunderbirdRejects(f"Need proper <{direction}Server> in XML file")
        for index, view in enumerate(jxon.items(provider, f"{direction}Server")):
            try:
                servers.append(_read_server(view, direction == "outgoing", version))
            except ThunderbirdRejects as failure:
                error = failure
                skipped.append(SkippedServer(direction, index, str(failure)))
        if not servers:
            raise error
    name = js_str(jxon.get(provider, "displayName"))
    incoming, outgoing = tuple(found["incoming"]), tuple(found["outgoing"])
    return ClientConfig(config_id, tuple(domains), name, incoming, outgoing, tuple(skipped))
