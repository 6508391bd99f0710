"""readFromXML.sys.mjs: a clientConfig document as Thunderbird reads it."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from typing import Any

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


def _read_server(view: Any, outgoing: bool) -> Server:
    if outgoing and jxon.get(view, "@type") != "smtp":
        raise ThunderbirdRejects(MSG_OUTGOING_NOT_SMTP)
    incoming_types = {t: t for t in ("pop3", "imap", "nntp", "exchange")}
    kind = "smtp" if outgoing else sanitize.translate(jxon.get(view, "@type"), incoming_types)
    hostname = sanitize.hostname(jxon.get(view, "hostname"))
    port = sanitize.integer(jxon.get(view, "port"), 1, 65535)
    username = None if outgoing else js_str(jxon.get(view, "username"))
    password = js_str(view["password"]) if jxon.has(view, "password") else None
    error = ThunderbirdRejects("need proper <socketType> in XML")
    for value in jxon.items(view, "socketType"):  # the first one Thunderbird knows wins
        try:
            socket_type = sanitize.translate(value, XML_SOCKET_TYPES)
            break
        except ThunderbirdRejects as failure:
            error = failure
    else:
        raise error
    table = XML_OUTGOING_AUTH if outgoing else XML_INCOMING_AUTH
    methods = _auth_methods(view, hostname, kind, table)
    if outgoing and (jxon.has(view, "username") or methods[0] in (AUTH_CLEARTEXT, AUTH_ENCRYPTED)):
        username = js_str(jxon.get(view, "username"))
    pop3 = _pop3_options(view) if kind == "pop3" else None
    auth = methods[0]
    alternatives = tuple(methods)
    server = Server(kind, hostname, port, socket_type, auth, alternatives, username, password, pop3)
    with suppress(ThunderbirdRejects):
        global_server = sanitize.boolean(view, "useGlobalPreferredServer", False)
        server = replace(server, use_global_preferred_server=global_server)
    return server


def read_client_config(xml: bytes) -> ClientConfig:
    """Read a clientConfig document as readFromXML does, or raise :class:`ThunderbirdRejects`
    with Thunderbird's reason (when no incoming or outgoing server is left: the reason the
    last one was skipped)."""
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
                servers.append(_read_server(view, direction == "outgoing"))
            except ThunderbirdRejects as failure:
                error = failure
                skipped.append(SkippedServer(direction, index, str(failure)))
        if not servers:
            raise error
    name = js_str(jxon.get(provider, "displayName"))
    incoming, outgoing = tuple(found["incoming"]), tuple(found["outgoing"])
    return ClientConfig(config_id, tuple(domains), name, incoming, outgoing, tuple(skipped))
