"""Apple configuration profiles: ``/apple/profile.mobileconfig`` (docs/apple.md).

The settings page (``autoconfig/web/page.py``) links to it and reads its query with the
same rules (``read_query``, ``require_protocol``), so the page offers exactly the
profiles that will download.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote, urlencode

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from autoconfig.address import EmailAddress, display_domain
from autoconfig.answers.errors import ErrorFormat, plain_text_errors
from autoconfig.answers.lookup import address_from, find_config, for_user
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.domains.records import DomainConfig, Protocol
from autoconfig.errors import BadRequestError, ClientError
from autoconfig.i18n import language_of
from autoconfig.phrases import Phrase
from autoconfig.render.mobileconfig import (
    ProfileOptions,
    ProfileRequestError,
    check_account_name,
    incoming_server,
    render_domain_mobileconfig,
    render_mobileconfig,
)

PROFILE_CONTENT_TYPE = "application/x-apple-aspen-config"
PROTOCOLS = {"imap": Protocol.IMAP, "pop3": Protocol.POP3}
ACTIVESYNC = "activesync"  # protocol=activesync: an Exchange ActiveSync profile (iOS)
REFUSED_PARAMETERS = ("password",)  # never a password in a URL or a profile


class ProtocolNotOfferedError(ClientError):
    """The domain has no incoming server of the protocol asked for."""

    status = 404


class FieldError(BadRequestError):
    """Bad input in one form field, so the page can point at it."""

    def __init__(self, message: str | Phrase, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class ProfileQuery:
    """A validated profile or page request."""

    address: EmailAddress
    account_name: str | None
    protocol: Protocol | None
    activesync: bool = False


def read_query(args: Mapping[str, str]) -> ProfileQuery:
    """Validate ``emailaddress``, ``name`` and ``protocol``; a 400 says what is wrong."""
    if any(key.lower() in REFUSED_PARAMETERS for key in args):
        raise BadRequestError(
            Phrase("passwords are never sent to or put in a profile; remove 'password'")
        )
    raw_address = args.get("emailaddress", "").strip(" ")
    if not raw_address:
        raise FieldError(Phrase("the email address is missing"), "emailaddress")
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
        raise BadRequestError(Phrase(
            "the link asks for a kind of profile that does not exist"
            " (protocol can be imap, pop3 or activesync)"
        ))
    return ProfileQuery(address, name, PROTOCOLS.get(raw_protocol), raw_protocol == ACTIVESYNC)


def require_protocol(config: DomainConfig, query: ProfileQuery) -> None:
    """A 404 unless ``config`` offers what ``query`` asks for (IMAP, POP3, ActiveSync)."""
    if query.activesync:
        if config.activesync is None:
            raise ProtocolNotOfferedError(Phrase(
                "%(provider)s offers no Exchange ActiveSync server", provider=config.name
            ))
        return
    try:
        incoming_server(config, query.protocol)
    except ProfileRequestError as error:
        raise ProtocolNotOfferedError(error.phrase) from None


def profile_kind(config: DomainConfig, query: ProfileQuery) -> str:
    """The word of the profile's account in its file name: imap, pop3 or activesync (the
    protocol the profile configures, also when the query named none)."""
    if query.activesync:
        return ACTIVESYNC
    return incoming_server(config, query.protocol).protocol.value


def profile_disposition(address: EmailAddress, kind: str) -> str:
    """The profile's Content-Disposition: one file name per domain and account kind
    (``example.com-imap.mobileconfig``), so an IMAP and a POP3 profile downloaded one
    after the other do not overwrite or rename each other. The domain passed the
    address parser (A-label letters, digits, '-' and '.' only), so ``filename`` needs no
    quoting; an IDN also gets its Unicode name as ``filename*`` (RFC 6266 section 4.3,
    RFC 8187), which browsers prefer."""
    header = f'attachment; filename="{address.domain}-{kind}.mobileconfig"'
    unicode_name = display_domain(address.domain)
    if unicode_name != address.domain:
        header += f"; filename*=UTF-8''{quote(f'{unicode_name}-{kind}.mobileconfig')}"
    return header


def usable_name(name: str | None) -> str | None:
    """A name from the directory, if a profile can carry it (else none at all)."""
    if name is None:
        return None
    try:
        return check_account_name(name)
    except ProfileRequestError:
        return None


def profile(ask: Ask, services: Services) -> Answer:
    """The profile for one address, in the visitor's language; signed when the settings
    name a certificate."""
    query = read_query(ask.query)
    config = find_config(services, services.store.snapshot, query.address.domain)
    require_protocol(config, query)
    user = for_user(services, config, query.address)
    language = language_of(ask.query.get("lang", ""), ask.accept_language)
    options = ProfileOptions(
        services.settings.profile_prefix, query.protocol,
        query.account_name or usable_name(user.name), query.activesync,
        services.translators(language),
    )
    # The per-domain prepared profile only for the domain's own record (see
    # render_domain_mobileconfig); a directory's per-user record is built whole.
    render = render_domain_mobileconfig if user.config is config else render_mobileconfig
    body = render(user.config, query.address, options)
    if services.signer is not None:
        body = services.signer.sign(body)
    headers = [
        ("Content-Type", PROFILE_CONTENT_TYPE),
        ("Content-Disposition", profile_disposition(query.address, profile_kind(config, query))),
    ]
    return Answer(200, headers, body)


def asks_for_a_page(ask: Ask) -> bool:
    """Whether a browser asks (its Accept names text/html): a person followed a link."""
    accepted = parse_accept_header(ask.accept, MIMEAccept)
    return any(kind == "text/html" and quality > 0 for kind, quality in accepted)


def errors_shown_on(page_path: str) -> ErrorFormat:
    """The profile route's error format: a browser is sent on (303 See Other) to the
    settings page with the same query, which shows the error in the visitor's language
    beside the field at fault and the settings it can offer; other clients (scripts,
    ``curl``, the device's own profile download) keep the plain-text answer. A request
    whose query could not be read, and a bug, are answered in plain text too (the page
    could not show more)."""

    def answer(error: ClientError | None, ask: Ask) -> Answer:
        if (error is None or ask.method not in ("GET", "HEAD") or not ask.query
                or not asks_for_a_page(ask)):
            return plain_text_errors(error, ask)
        # The page's own fields; a password's value is dropped, its name kept: the page
        # refuses it in words too.
        kept = [(key, "" if key.lower() in REFUSED_PARAMETERS else value)
                for key, value in ask.query.items()]
        location = f"{page_path}?{urlencode(kept)}"
        return Answer(HTTPStatus.SEE_OTHER, [("Location", location)])

    return answer
