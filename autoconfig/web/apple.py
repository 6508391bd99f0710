"""Apple profiles and the settings page for people (docs/apple.md; README "Endpoints").

``/apple/profile.mobileconfig`` answers devices; ``/`` and ``/apple`` answer people with
a form that works without JavaScript (GET, fields in the query string). Both read the
query with the same rules, so the page offers exactly the profiles that will download.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from autoconfig.address import EmailAddress, display_domain
from autoconfig.domains.records import Auth, DomainConfig, Protocol, Security, Server
from autoconfig.errors import BadRequestError, ClientError, UnknownDomainError
from autoconfig.i18n import LANGUAGES, chosen_language, page_language, translator
from autoconfig.phrases import Phrase, Translator
from autoconfig.render.mobileconfig import (
    ProfileOptions,
    ProfileRequestError,
    check_account_name,
    incoming_server,
    render_domain_mobileconfig,
    render_mobileconfig,
)
from autoconfig.signing import Signer
from autoconfig.web.brand import host_brand
from autoconfig.web.device import Device, device_of
from autoconfig.web.lookup import address_from, current_snapshot, find_config, for_user
from autoconfig.web.qrcode import qr_svg

blueprint = Blueprint("apple", __name__)

SIGNER_KEY = "autoconfig.signer"
PROFILE_CONTENT_TYPE = "application/x-apple-aspen-config"
PROTOCOLS = {"imap": Protocol.IMAP, "pop3": Protocol.POP3}
ACTIVESYNC = "activesync"  # protocol=activesync: an Exchange ActiveSync profile (iOS)
REFUSED_PARAMETERS = ("password",)  # never a password in a URL or a profile
MAX_ECHO_LENGTH = 300

# Our vocabulary in words for people reading the page (translated when shown).
SECURITY_WORDS: dict[Security, Phrase] = {
    Security.TLS: Phrase("SSL/TLS (encrypted from the start)"),
    Security.STARTTLS: Phrase("STARTTLS (switches to encryption before you log in)"),
    Security.NONE: Phrase("None (not encrypted)"),
}
AUTH_WORDS: dict[Auth, Phrase] = {
    Auth.PASSWORD: Phrase("normal password"),
    Auth.PASSWORD_ENCRYPTED: Phrase("encrypted password (CRAM-MD5)"),
    Auth.NTLM: Phrase("NTLM"),
    Auth.GSSAPI: Phrase("Kerberos (GSSAPI)"),
    Auth.OAUTH2: Phrase("OAuth2 (sign in on your provider's web page)"),
    Auth.CLIENT_CERT: Phrase("TLS client certificate"),
    Auth.NONE: Phrase("none"),
}
INCOMING_TITLE = Phrase("Incoming mail (%(protocol)s)")
OUTGOING_TITLE = Phrase("Outgoing mail (%(protocol)s)")
ALTERNATIVE = Phrase("%(server)s, alternative")
EITHER = Phrase("%(first)s or %(second)s")
DOWNLOAD = Phrase("Download the %(protocol)s profile")
# The ActiveSync profile's link: Apple's com.apple.eas.account has no macOS support.
DOWNLOAD_EAS = Phrase("Download the Exchange ActiveSync profile (iPhone, iPad)")
# The page's sections, most useful first for each kind of device; all are always shown.
SECTION_ORDER: dict[Device, tuple[str, ...]] = {
    Device.IOS: ("profiles", "settings", "apps"),
    Device.MAC: ("profiles", "settings", "apps"),
    Device.ANDROID: ("apps", "settings", "profiles"),
    Device.WINDOWS: ("apps", "settings", "profiles"),
    Device.OTHER: ("profiles", "settings", "apps"),
}
# Query keys the language links and the QR code carry over (never anything else).
PAGE_KEYS = ("emailaddress", "name", "protocol")


class ProtocolNotOfferedError(ClientError):
    """The domain has no incoming server of the protocol asked for."""

    status = 404


class FieldError(BadRequestError):
    """Bad input in one form field, so the page can point at it."""

    def __init__(self, message: str | Phrase, field: str) -> None:
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
        raise BadRequestError(
            Phrase("passwords are never sent to or put in a profile; remove 'password'")
        )
    raw_address = args.get("emailaddress", "").strip(" ")
    if not raw_address:
        raise FieldError(
            Phrase("emailaddress is missing: give the address to set up"), "emailaddress"
        )
    try:
        address = address_from(raw_address)
    except BadRequestError as error:
        raise FieldError(error.phrase, "emailaddress") from None
    name = args.get("name", "").strip(" ") or None
    if name is not None:
        try:
            check_account_name(name)
        except ProfileRequestError as error:
            reason = Phrase("invalid name: %(reason)s", reason=error.phrase)
            raise FieldError(reason, "name") from None
    raw_protocol = args.get("protocol", "").strip(" ").lower()
    if raw_protocol and raw_protocol not in (*PROTOCOLS, ACTIVESYNC):
        raise BadRequestError(Phrase("protocol must be imap, pop3 or activesync"))
    return Query(address, name, PROTOCOLS.get(raw_protocol), raw_protocol == ACTIVESYNC)


def _options(query: Query, name: str | None = None) -> ProfileOptions:
    """``name``: the person's name from the directory, used when the query gives none."""
    prefix: str = current_app.config["AUTOCONFIG_SETTINGS"].profile_prefix
    return ProfileOptions(
        prefix, query.protocol, query.account_name or name, query.activesync, translator()
    )


def require_protocol(config: DomainConfig, query: Query) -> None:
    """A 404 unless ``config`` offers what ``query`` asks for (IMAP, POP3, ActiveSync)."""
    if query.activesync:
        if config.activesync is None:
            raise ProtocolNotOfferedError(Phrase(
                "%(provider)s offers no Exchange ActiveSync server", provider=config.name
            ))
        return
    protocol = query.protocol
    try:
        incoming_server(config, protocol)
    except ProfileRequestError as error:
        raise ProtocolNotOfferedError(error.phrase) from None


def current_signer() -> Signer | None:
    """The signer loaded at start-up, None when profiles go out unsigned."""
    signer: Signer | None = current_app.extensions.get(SIGNER_KEY)
    return signer


@blueprint.get("/apple/profile.mobileconfig")
def profile() -> Response:
    """The profile for one address: signed when the settings name a certificate."""
    query = read_query(request.args)
    config = find_config(current_snapshot(), query.address.domain)
    require_protocol(config, query)
    user = for_user(config, query.address)
    name = user.name if user.name is None else _usable_name(user.name)
    # The per-domain prepared profile only for the domain's own record (see
    # render_domain_mobileconfig); a directory's per-user record is built whole.
    render = render_domain_mobileconfig if user.config is config else render_mobileconfig
    body = render(user.config, query.address, _options(query, name))
    signer = current_signer()
    if signer is not None:
        body = signer.sign(body)
    response = Response(body, content_type=PROFILE_CONTENT_TYPE)
    response.headers["Content-Disposition"] = profile_disposition(query.address)
    return response


def profile_disposition(address: EmailAddress) -> str:
    """The profile's Content-Disposition (also given by the fast path). The domain passed
    the address parser: A-label letters, digits, '-' and '.' only."""
    return f'attachment; filename="{address.domain}.mobileconfig"'


def _usable_name(name: str) -> str | None:
    """A name from the directory, if a profile can carry it (else none at all)."""
    try:
        return check_account_name(name)
    except ProfileRequestError:
        return None


def _rows(
    title: Phrase, servers: tuple[Server, ...], address: EmailAddress, t: Translator
) -> list[ServerRow]:
    """Servers in the file's order; a second one of a kind is the alternative."""
    rows: list[ServerRow] = []
    seen: set[Protocol] = set()
    for server in servers:
        text = Phrase(title.msgid, protocol=server.protocol.value.upper()).translated(t)
        if server.protocol in seen:
            text = Phrase(ALTERNATIVE.msgid, server=text).translated(t)
        login = AUTH_WORDS[server.auth[0]].translated(t)
        for method in server.auth[1:]:
            login = Phrase(EITHER.msgid, first=login, second=AUTH_WORDS[method]).translated(t)
        rows.append(ServerRow(
            title=text,
            host=server.host_for(address),
            port=server.port,
            security=SECURITY_WORDS[server.security].translated(t),
            username=None if Auth.NONE in server.auth else server.username_for(address),
            login=login,
        ))
        seen.add(server.protocol)
    return rows


def _profile_links(config: DomainConfig, query: Query) -> list[tuple[str, str]]:
    """Each offered profile (link text, URL), in the page's language (the device shows
    the profile's texts in it too)."""
    t = translator()
    links = []
    for word, protocol in PROTOCOLS.items():
        if config.incoming_of(protocol):
            args: dict[str, Any] = {
                "emailaddress": str(query.address), "protocol": word, "lang": page_language()
            }
            if query.account_name:
                args["name"] = query.account_name
            text = Phrase(DOWNLOAD.msgid, protocol=protocol.value.upper()).translated(t)
            links.append((text, url_for("apple.profile", **args)))
    if config.activesync:  # iPhone and iPad only (com.apple.eas.account has no macOS)
        args = {"emailaddress": str(query.address), "protocol": ACTIVESYNC, "lang": page_language()}
        links.append((DOWNLOAD_EAS.translated(t), url_for("apple.profile", **args)))
    return links


def _phone_url(query: Query) -> str:
    """This page for this address, absolute, for the QR code; the phone picks the
    language from its own settings unless the visitor chose one here."""
    args: dict[str, Any] = {"emailaddress": str(query.address)}
    if query.account_name:
        args["name"] = query.account_name
    chosen = chosen_language()
    if chosen:
        args["lang"] = chosen
    return url_for("apple.page", _external=True, **args)


def _language_links() -> list[tuple[str, str, str, bool]]:
    """(tag, own name, URL, current) for the language switch: this page in each language."""
    kept: dict[str, Any] = {key: request.args[key] for key in PAGE_KEYS if key in request.args}
    current = page_language()
    return [
        (tag, name, url_for("apple.page", **{**kept, "lang": tag}), tag == current)
        for tag, name in LANGUAGES.items()
    ]


def _echo(args: Mapping[str, str], key: str) -> str:
    """A form value to put back in its field, only if it is plain, short text."""
    value = args.get(key, "")
    return value if value.isprintable() and len(value) <= MAX_ECHO_LENGTH else ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _page_response(status: int, **context: object) -> Response:
    device = device_of(request.headers.get("User-Agent", ""))
    html = render_template(
        "apple/page.html",
        emailaddress=_echo(request.args, "emailaddress"),
        name=_echo(request.args, "name"),
        lang=page_language(),
        chosen_lang=chosen_language(),
        languages=_language_links(),
        brand=host_brand(),
        device=device.value,
        order=SECTION_ORDER[device],
        **context,
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    # The page's language and section order follow these request headers.
    response.headers["Vary"] = "Accept-Language, User-Agent"
    return response


@blueprint.get("/")
@blueprint.get("/apple")
def page() -> Response:
    """The settings page: a form, and with an address, its settings and profiles."""
    if not any(key in request.args for key in (*PAGE_KEYS, *REFUSED_PARAMETERS)):
        return _page_response(200)  # nothing asked yet (perhaps only ?lang=)
    t = translator()
    try:
        query = read_query(request.args)
        config = find_config(current_snapshot(), query.address.domain)
        require_protocol(config, query)
        config = for_user(config, query.address).config
    except ClientError as error:
        if isinstance(error, FieldError):
            invalid = error.field
        else:
            invalid = "emailaddress" if isinstance(error, UnknownDomainError) else ""
        return _page_response(
            error.status, error=error, error_text=_sentence(error.phrase.translated(t)),
            invalid=invalid,
        )
    phone_url = _phone_url(query)
    return _page_response(
        200,
        domain=config,
        address=query.address,
        domain_label=display_domain(query.address.domain),
        servers=_rows(INCOMING_TITLE, config.incoming, query.address, t)
        + _rows(OUTGOING_TITLE, config.outgoing, query.address, t),
        profiles=_profile_links(config, query),
        choose_protocol=all(config.incoming_of(protocol) for protocol in PROTOCOLS.values()),
        qr=Markup(qr_svg(phone_url)),  # noqa: S704 - segno's SVG: path data, no typed text
        signed=current_signer() is not None,
    )


@blueprint.get("/apple/style.css")
def stylesheet() -> Response:
    """The page's only style sheet, served from here so the CSP can stay 'self'."""
    css = render_template("apple/style.css")
    response = Response(css, content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
