"""Apple profiles and the settings page for people (SPEC.md section 3, DESIGN endpoints).

``/apple/profile.mobileconfig`` answers devices; ``/`` and ``/apple`` answer people with
a form that works without JavaScript (GET, fields in the query string). Both read the
query with the same rules, so the page offers exactly the profiles that will download.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from autoconfig.address import EmailAddress, display_domain
from autoconfig.errors import BadRequestError, ClientError, UnknownDomainError
from autoconfig.model import Auth, DomainConfig, Protocol, Security, Server
from autoconfig.render.mobileconfig import (
    ProfileOptions,
    ProfileRequestError,
    check_account_name,
    incoming_server,
    render_mobileconfig,
)
from autoconfig.signing import Signer
from autoconfig.web.lookup import address_from, current_snapshot, find_config, for_user

blueprint = Blueprint("apple", __name__)

SIGNER_KEY = "autoconfig.signer"
PROFILE_CONTENT_TYPE = "application/x-apple-aspen-config"
PROTOCOLS = {"imap": Protocol.IMAP, "pop3": Protocol.POP3}
ACTIVESYNC = "activesync"  # protocol=activesync: an Exchange ActiveSync profile (iOS)
REFUSED_PARAMETERS = ("password",)  # never a password in a URL or a profile
MAX_ECHO_LENGTH = 300

# The page loads nothing from elsewhere, runs no script and may not be framed.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none';"
        " frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the page's URL holds the address
    "Cache-Control": "no-store",
}

# Our vocabulary in words for people reading the page.
SECURITY_WORDS: dict[Security, str] = {
    Security.TLS: "SSL/TLS (encrypted from the start)",
    Security.STARTTLS: "STARTTLS (switches to encryption before you log in)",
    Security.NONE: "None (not encrypted)",
}
AUTH_WORDS: dict[Auth, str] = {
    Auth.PASSWORD: "normal password",
    Auth.PASSWORD_ENCRYPTED: "encrypted password (CRAM-MD5)",
    Auth.NTLM: "NTLM",
    Auth.GSSAPI: "Kerberos (GSSAPI)",
    Auth.OAUTH2: "OAuth2 (sign in on your provider's web page)",
    Auth.CLIENT_CERT: "TLS client certificate",
    Auth.NONE: "none",
}


class ProtocolNotOfferedError(ClientError):
    """The domain has no incoming server of the protocol asked for."""

    status = 404


class FieldError(BadRequestError):
    """Bad input in one form field, so the page can point at it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Query:
    """A validated profile or page request."""

    address: EmailAddress
    account_name: str | None
    protocol: Protocol | None
    activesync: bool = False


@dataclass(frozen=True, slots=True)
class ServerRow:
    """One server as the page shows it."""

    title: str
    host: str
    port: int
    security: str
    username: str | None
    login: str


def read_query(args: Mapping[str, str]) -> Query:
    """Validate ``emailaddress``, ``name`` and ``protocol``; a 400 says what is wrong."""
    if any(key.lower() in REFUSED_PARAMETERS for key in args):
        raise BadRequestError("passwords are never sent to or put in a profile; remove 'password'")
    raw_address = args.get("emailaddress", "").strip(" ")
    if not raw_address:
        raise FieldError("emailaddress is missing: give the address to set up", "emailaddress")
    try:
        address = address_from(raw_address)
    except BadRequestError as error:
        raise FieldError(error.message, "emailaddress") from None
    name = args.get("name", "").strip(" ") or None
    if name is not None:
        try:
            check_account_name(name)
        except ProfileRequestError as error:
            raise FieldError(f"invalid name: {error}", "name") from None
    raw_protocol = args.get("protocol", "").strip(" ").lower()
    if raw_protocol and raw_protocol not in (*PROTOCOLS, ACTIVESYNC):
        raise BadRequestError("protocol must be imap, pop3 or activesync")
    return Query(address, name, PROTOCOLS.get(raw_protocol), raw_protocol == ACTIVESYNC)


def _options(query: Query, name: str | None = None) -> ProfileOptions:
    """``name``: the person's name from the directory, used when the query gives none."""
    prefix: str = current_app.config["AUTOCONFIG_SETTINGS"].profile_prefix
    return ProfileOptions(prefix, query.protocol, query.account_name or name, query.activesync)


def _require_protocol(config: DomainConfig, query: Query) -> None:
    if query.activesync:
        if config.activesync is None:
            raise ProtocolNotOfferedError(f"{config.name} offers no Exchange ActiveSync server")
        return
    protocol = query.protocol
    try:
        incoming_server(config, protocol)
    except ProfileRequestError as error:
        raise ProtocolNotOfferedError(str(error)) from None


def current_signer() -> Signer | None:
    """The signer loaded at start-up, None when profiles go out unsigned."""
    signer: Signer | None = current_app.extensions.get(SIGNER_KEY)
    return signer


@blueprint.get("/apple/profile.mobileconfig")
def profile() -> Response:
    """The profile for one address: signed when the settings name a certificate."""
    query = read_query(request.args)
    config = find_config(current_snapshot(), query.address.domain)
    _require_protocol(config, query)
    user = for_user(config, query.address)
    name = user.name if user.name is None else _usable_name(user.name)
    body = render_mobileconfig(user.config, query.address, _options(query, name))
    signer = current_signer()
    if signer is not None:
        body = signer.sign(body)
    response = Response(body, content_type=PROFILE_CONTENT_TYPE)
    # The domain passed the address parser: A-label letters, digits, '-' and '.' only.
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{query.address.domain}.mobileconfig"'
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _usable_name(name: str) -> str | None:
    """A name from the directory, if a profile can carry it (else none at all)."""
    try:
        return check_account_name(name)
    except ProfileRequestError:
        return None


def _rows(direction: str, servers: tuple[Server, ...], address: EmailAddress) -> list[ServerRow]:
    """Servers in the file's order; a second one of a kind is the alternative."""
    rows: list[ServerRow] = []
    seen: set[Protocol] = set()
    for server in servers:
        title = f"{direction} ({server.protocol.value.upper()})"
        rows.append(ServerRow(
            title=title + (", alternative" if server.protocol in seen else ""),
            host=server.host_for(address),
            port=server.port,
            security=SECURITY_WORDS[server.security],
            username=None if Auth.NONE in server.auth else server.username_for(address),
            login=" or ".join(AUTH_WORDS[method] for method in server.auth),
        ))
        seen.add(server.protocol)
    return rows


def _profile_links(config: DomainConfig, query: Query) -> list[tuple[str, str]]:
    links = []
    for word, protocol in PROTOCOLS.items():
        if config.incoming_of(protocol):
            args: dict[str, Any] = {"emailaddress": str(query.address), "protocol": word}
            if query.account_name:
                args["name"] = query.account_name
            links.append((protocol.value.upper(), url_for("apple.profile", **args)))
    if config.activesync:  # iPhone and iPad only (com.apple.eas.account has no macOS)
        args = {"emailaddress": str(query.address), "protocol": ACTIVESYNC}
        links.append(("Exchange ActiveSync (iPhone, iPad)", url_for("apple.profile", **args)))
    return links


def _echo(args: Mapping[str, str], key: str) -> str:
    """A form value to put back in its field, only if it is plain, short text."""
    value = args.get(key, "")
    return value if value.isprintable() and len(value) <= MAX_ECHO_LENGTH else ""


def _page_response(status: int, **context: object) -> Response:
    html = render_template(
        "apple/page.html",
        emailaddress=_echo(request.args, "emailaddress"),
        name=_echo(request.args, "name"),
        **context,
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers.update(PAGE_HEADERS)
    return response


@blueprint.get("/")
@blueprint.get("/apple")
def page() -> Response:
    """The settings page: a form, and with an address, its settings and profiles."""
    if not request.args:
        return _page_response(200)
    try:
        query = read_query(request.args)
        config = find_config(current_snapshot(), query.address.domain)
        _require_protocol(config, query)
        config = for_user(config, query.address).config
    except ClientError as error:
        if isinstance(error, FieldError):
            invalid = error.field
        else:
            invalid = "emailaddress" if isinstance(error, UnknownDomainError) else ""
        return _page_response(error.status, error=error, invalid=invalid)
    return _page_response(
        200,
        domain=config,
        address=query.address,
        domain_label=display_domain(query.address.domain),
        servers=_rows("Incoming mail", config.incoming, query.address)
        + _rows("Outgoing mail", config.outgoing, query.address),
        profiles=_profile_links(config, query),
        choose_protocol=all(config.incoming_of(protocol) for protocol in PROTOCOLS.values()),
        signed=current_signer() is not None,
    )


@blueprint.get("/apple/style.css")
def stylesheet() -> Response:
    """The page's only style sheet, served from here so the CSP can stay 'self'."""
    css = render_template("apple/style.css")
    response = Response(css, content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
