"""Warnings about valid domain files: what real clients will do with them.

Each rule cites the client behaviour it predicts (the pages under docs/). Errors make a file
unusable; these findings leave it served but tell the admin what to expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urlsplit

from autoconfig.domains.load import Finding, KeyPath, LoadedFile, format_key_path
from autoconfig.domains.records import STANDARD_PORTS, Auth, Protocol, Security, Server
from autoconfig.render.mobileconfig import apple_auth
from autoconfig.render.pacc import chosen_servers
from autoconfig.render.thunderbird_oauth import thunderbird_oauth2_issuer

# Methods Thunderbird rejects on an incoming server (docs/thunderbird.md#authentication).
_TB_INCOMING_REJECTS = {Auth.NONE, Auth.CLIENT_CERT}
_PASSWORD_METHODS = {Auth.PASSWORD, Auth.PASSWORD_ENCRYPTED, Auth.NTLM, Auth.GSSAPI}


def _servers(loaded: LoadedFile) -> Iterator[tuple[KeyPath, Server]]:
    for index, server in enumerate(loaded.config.incoming):
        yield ("incoming", index), server
    for index, server in enumerate(loaded.config.outgoing):
        yield ("outgoing", index), server


@lru_cache(maxsize=4096)  # a hoster's thousands of files share a few Server objects
def _server_warnings(key_path: KeyPath, server: Server) -> tuple[tuple[KeyPath, str], ...]:
    return tuple(_server_findings(key_path, server))


def _server_findings(key_path: KeyPath, server: Server) -> Iterator[tuple[KeyPath, str]]:
    incoming = key_path[0] == "incoming"
    if server.security is Security.NONE:
        yield (*key_path, "security"), (
            "security: none sends passwords and mail in clear text; Thunderbird for Android"
            " (K-9) rejects the whole document when any server is plain"
            " (autoconfig docs thunderbird#thunderbird-for-android)"
        )
    if not server.is_standard_port:
        expected = STANDARD_PORTS[(server.protocol, server.security)]
        yield (*key_path, "port"), (
            f"port {server.port} is not the standard port for {server.protocol} with"
            f" {server.security} ({expected}); Thunderbird's Autodiscover reader and Apple"
            " devices choose TLS or STARTTLS by port (autoconfig docs autodiscover#encryption,"
            " autoconfig docs apple#tls)"
        )
    if server.port == 25 and not incoming:
        yield (*key_path, "port"), (
            "port 25 is for server-to-server relay; clients submit on 465 or 587"
        )
    auth = server.auth
    has_provider = thunderbird_oauth2_issuer(server.host, server.protocol.value) is not None
    if Auth.OAUTH2 in auth and not has_provider:
        after = auth[auth.index(Auth.OAUTH2) + 1 :]
        if not any(method in _PASSWORD_METHODS for method in after):
            yield (*key_path, "auth"), (
                "oauth2 with no password method after it: Thunderbird has no OAuth2 provider"
                f" for {server.host} and skips this server; add 'password' after 'oauth2'"
                " (autoconfig docs thunderbird#oauth2)"
            )
    if incoming and any(method in _TB_INCOMING_REJECTS for method in auth):
        yield (*key_path, "auth"), (
            "Thunderbird does not accept 'none' or 'client-cert' on an incoming server and"
            " skips it (autoconfig docs thunderbird#authentication)"
        )
    if not server.username_depends_on_address and Auth.NONE not in auth:
        yield (*key_path, "username"), (
            f"every user gets the same login name {server.username!r}; did you mean a"
            " placeholder such as %EMAILADDRESS%?"
        )


def _apple_findings(loaded: LoadedFile) -> Iterator[tuple[KeyPath, str]]:
    """What an Apple profile cannot say as the file does (docs/apple.md#authentication,
    #caldav-and-carddav)."""
    for key_path, server in _servers(loaded):
        if not apple_auth(server.auth)[1]:
            yield (*key_path, "auth"), (
                f"Apple profiles cannot express {', '.join(server.auth)}; the profile asks for"
                " a password (EmailAuthPassword), so the server must accept one"
                " (autoconfig docs apple#authentication)"
            )
    for key in ("caldav", "carddav"):
        url = getattr(loaded.config, key)
        if url is not None and url.startswith("http:"):
            yield (key,), (
                f"{key} uses http://: Apple devices and other clients send the password"
                " unencrypted (CalDAVUseSSL/CardDAVUseSSL false,"
                " autoconfig docs apple#caldav-and-carddav)"
            )


def _mx_findings(loaded: LoadedFile) -> Iterator[tuple[KeyPath, str]]:
    """``mx`` patterns that would serve far more domains than intended (docs/dns.md#mx-hosting)."""
    for index, pattern in enumerate(loaded.config.mx):
        if pattern.startswith("*.") and "." not in pattern[2:]:
            yield ("mx", index), (
                f"{pattern!r} matches every mail host under .{pattern[2:]}: any domain whose"
                " mail goes there would get this file's settings; name your own MX hosts"
            )
        if pattern in loaded.config.mx[:index]:
            yield ("mx", index), f"{pattern!r} is listed twice"


# The one path phones use: iOS takes only the host (com.apple.eas.account.yaml has Host,
# no URL) and Android's Exchange clients likewise build https://<host> plus this path
# (MS-ASHTTP 2.2.1.1.1: the path is the "ActiveSync virtual directory", this one in
# every example and on every Exchange server).
ACTIVESYNC_PATH = "/Microsoft-Server-ActiveSync"


def _groupware_findings(loaded: LoadedFile) -> Iterator[tuple[KeyPath, str]]:
    """Groupware URLs that some clients will not follow as written."""
    config = loaded.config
    if config.activesync is not None:
        parts = urlsplit(config.activesync)
        path = parts.path.rstrip("/")
        if path.lower().endswith(".asmx") or "/ews/" in f"{path.lower()}/":
            yield ("activesync",), (
                f"{config.activesync} looks like an EWS URL, not ActiveSync; Autodiscover's"
                " ASUrl is the Availability service (EWS), not ActiveSync, which lives at"
                f" {ACTIVESYNC_PATH}"
            )
        elif path.lower() != ACTIVESYNC_PATH.lower():
            yield ("activesync",), (
                f"Android and iOS ActiveSync clients use only the host and always the path"
                f" {ACTIVESYNC_PATH}; {path or '/'} needs a rewrite to it on the server"
            )
        if parts.scheme == "http":
            yield ("activesync",), "activesync uses http://: phones send the password unencrypted"
    for key in ("ews", "owa"):
        url = getattr(config, key)
        if url is not None and url.startswith("http:"):
            yield (key,), f"{key} uses http://: clients send the password unencrypted"
    if config.owa is not None and config.ews is None:
        yield ("owa",), (
            "owa without ews: Thunderbird reads the Autodiscover answer as an Exchange"
            " account with no EWS URL, which only an add-on can use; add ews if the"
            " server speaks it"
        )


def _pacc_findings(loaded: LoadedFile) -> Iterator[tuple[KeyPath, str]]:
    """A PACC document without an incoming or an outgoing server sets up no account.

    PACC (draft-ietf-mailmaint-pacc, docs/pacc.md) says only a host: implicit TLS on the
    standard port, the address as login name, password or oauth-public.
    """
    config = loaded.config
    chosen, skipped = chosen_servers(config)
    for direction, protocols in (("incoming", (Protocol.IMAP, Protocol.POP3)),
                                 ("outgoing", (Protocol.SMTP,))):
        if any(p in chosen for p in protocols):
            continue
        reasons = "; ".join(
            f"{s.server.host}:{s.server.port}: {s.reason}"
            for s in skipped if s.server.protocol in protocols
        )
        yield (direction,), (
            f"no {direction} server PACC can express, so PACC clients get no usable {direction}"
            f" entry ({reasons}); offer implicit TLS on the standard port with %EMAILADDRESS%"
            " as username (autoconfig docs pacc)"
        )


def _oauth2_block_findings(loaded: LoadedFile) -> Iterator[tuple[KeyPath, str]]:
    """``auth: oauth2`` with no ``oauth2:`` block, and the other way round."""
    config = loaded.config
    uses = [(key, server) for key, server in _servers(loaded) if Auth.OAUTH2 in server.auth]
    if config.oauth2 is None:
        for key_path, server in uses:
            if thunderbird_oauth2_issuer(server.host, server.protocol.value) is None:
                yield (*key_path, "auth"), (
                    "oauth2 without an oauth2: block: PACC and clientConfig 1.2 clients"
                    " learn no issuer, so they cannot use it; add oauth2: with issuer"
                )
    elif not uses:
        yield ("oauth2",), (
            "no server lists oauth2 in its auth, so no client uses this block"
        )


def lint(loaded: LoadedFile) -> list[Finding]:
    """Warnings for one loaded file, each located at the key it is about."""
    return [
        Finding(loaded.path, loaded.line_of(at), format_key_path(at), message, "warning")
        for key_path, server in _servers(loaded)
        for at, message in _server_warnings(key_path, server)
    ] + [
        Finding(loaded.path, loaded.line_of(at), format_key_path(at), message, "warning")
        for at, message in _apple_findings(loaded)
    ] + [
        Finding(loaded.path, loaded.line_of(at), format_key_path(at), message, "warning")
        for at, message in (
            *_mx_findings(loaded), *_groupware_findings(loaded), *_pacc_findings(loaded),
            *_oauth2_block_findings(loaded),
        )
    ]

