"""The settings page for people: ``/`` and ``/apple`` (docs/apple.md; Flask, Jinja, Babel).

A form that works without JavaScript (GET, fields in the query string); with an address,
the settings to type in, the profiles to download and a QR code for the phone. It reads
the query with the profile's own rules (``autoconfig.answers.apple``), so it offers
exactly the profiles that will download. Its paths are the route table's page routes
(``autoconfig/answers/routes.py``); the front adds the shared headers and counts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, render_template, request, url_for
from flask_babel import Babel
from markupsafe import Markup
from werkzeug.wrappers import Response

from autoconfig.address import EmailAddress, display_domain
from autoconfig.answers import routes
from autoconfig.answers.apple import (
    ACTIVESYNC,
    PROTOCOLS,
    REFUSED_PARAMETERS,
    FieldError,
    ProfileQuery,
    read_query,
    require_protocol,
)
from autoconfig.answers.lookup import find_config, for_user
from autoconfig.answers.services import Services
from autoconfig.domains.records import Auth, DomainConfig, Protocol, Security, Server
from autoconfig.errors import ClientError, UnknownDomainError
from autoconfig.i18n import LANGUAGES, TRANSLATIONS_DIR, babel_locale, language_of, match_language
from autoconfig.phrases import Phrase, Translator
from autoconfig.web.brand import host_brand
from autoconfig.web.device import Device, device_of
from autoconfig.web.qrcode import qr_svg
from autoconfig.web.resources import templates_dir

SERVICES_KEY = "autoconfig.services"
MAX_ECHO_LENGTH = 300
# The address field takes more than an address may have (MAX_ADDRESS_LENGTH, 254), so a
# longer paste reaches the check whole and is told it is too long, not cut to 254 and
# told something else; and less than the echo limit, so it comes back in the field.
ADDRESS_INPUT_LIMIT = MAX_ECHO_LENGTH
# The query as url_for writes it (werkzeug's safe characters), so links read as before.
_QUERY_SAFE = "!$'()*,/:;?@"

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
# On computers the profiles come first for their QR code, which takes the download to
# the phone; an Apple profile cannot install on Android, so the apps come first there.
SECTION_ORDER: dict[Device, tuple[str, ...]] = {
    Device.IOS: ("profiles", "settings", "apps"),
    Device.MAC: ("profiles", "settings", "apps"),
    Device.ANDROID: ("apps", "settings", "profiles"),
    Device.WINDOWS: ("profiles", "apps", "settings"),
    Device.OTHER: ("profiles", "settings", "apps"),
}
# Where the QR code opens the page on the phone: at the download buttons.
PROFILES_ANCHOR = "profiles"
# Query keys the language links and the QR code carry over (never anything else).
PAGE_KEYS = ("emailaddress", "name", "protocol")


@dataclass(frozen=True, slots=True)
class ServerRow:
    """One server as the page shows it."""

    title: str
    host: str  # as people read it (an IDN in Unicode)
    port: int
    security: str
    username: str | None  # as people read it
    login: str
    host_ascii: str | None = None  # the A-label form, where it differs, for apps that need it
    username_ascii: str | None = None


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
        host = server.host_for(address)
        username = None if Auth.NONE in server.auth else server.username_for(address)
        readable_username = _readable(username) if username is not None else None
        rows.append(ServerRow(
            title=text,
            host=_readable(host),
            port=server.port,
            security=SECURITY_WORDS[server.security].translated(t),
            username=readable_username,
            login=login,
            host_ascii=host if _readable(host) != host else None,
            username_ascii=username if readable_username != username else None,
        ))
        seen.add(server.protocol)
    return rows


def _readable(value: str) -> str:
    """A host name or a login (``name@domain``) with its domain in Unicode, as people
    read it; anything that is not an IDN A-label stays as it is."""
    local, at, domain = value.rpartition("@")
    return f"{local}{at}{display_domain(domain)}"


def services() -> Services:
    """The services of the running application."""
    found: Services = current_app.extensions[SERVICES_KEY]
    return found


def page_language() -> str:
    """The BCP 47 tag of the language to answer this request in."""
    return language_of(request.args.get("lang", ""), request.headers.get("Accept-Language", ""))


def chosen_language() -> str | None:
    """The language the visitor picked with ``?lang=``, if it is one we have."""
    return match_language(request.args.get("lang", ""))


def translator() -> Translator:
    """The gettext function of this request's language (for ``Phrase.translated``)."""
    return services().translators(page_language())


def _profile_url(**args: str) -> str:
    return f"{request.script_root}{routes.PROFILE.url()}?{urlencode(args, safe=_QUERY_SAFE)}"


def _profile_links(config: DomainConfig, query: ProfileQuery) -> list[tuple[str, str]]:
    """Each offered profile (link text, URL), in the page's language (the device shows
    the profile's texts in it too)."""
    t = translator()
    links = []
    for word, protocol in PROTOCOLS.items():
        if config.incoming_of(protocol):
            args: dict[str, str] = {
                "emailaddress": str(query.address), "protocol": word, "lang": page_language()
            }
            if query.account_name:
                args["name"] = query.account_name
            text = Phrase(DOWNLOAD.msgid, protocol=protocol.value.upper()).translated(t)
            links.append((text, _profile_url(**args)))
    if config.activesync:  # iPhone and iPad only (com.apple.eas.account has no macOS)
        args = {"emailaddress": str(query.address), "protocol": ACTIVESYNC, "lang": page_language()}
        links.append((DOWNLOAD_EAS.translated(t), _profile_url(**args)))
    return links


def _phone_url(query: ProfileQuery) -> str:
    """This page for this address, absolute, for the QR code; the phone picks the
    language from its own settings unless the visitor chose one here."""
    args: dict[str, Any] = {"emailaddress": str(query.address)}
    if query.account_name:
        args["name"] = query.account_name
    chosen = chosen_language()
    if chosen:
        args["lang"] = chosen
    return url_for(routes.APPLE_PAGE.name, _external=True, _anchor=PROFILES_ANCHOR, **args)


def _language_links() -> list[tuple[str, str, str, bool]]:
    """(tag, own name, URL, current) for the language switch: this page in each language."""
    kept: dict[str, Any] = {key: request.args[key] for key in PAGE_KEYS if key in request.args}
    current = page_language()
    return [
        (tag, name, url_for(routes.APPLE_PAGE.name, **{**kept, "lang": tag}), tag == current)
        for tag, name in LANGUAGES.items()
    ]


def _echo(args: Mapping[str, str], key: str) -> str:
    """A form value to put back in its field, only if it is plain, short text."""
    value = args.get(key, "")
    return value if value.isprintable() and len(value) <= MAX_ECHO_LENGTH else ""


def _sentence(phrase: Phrase, translate: Translator) -> str:
    """``phrase`` translated as a sentence: its first letter upper case when that letter
    is the message's own. A message that opens with a value the visitor typed (Japanese
    puts the domain first) keeps it as typed; one that opens with a reason capitalises
    the reason the same way."""
    template = translate(phrase.msgid)
    values = {key: value.translated(translate) if isinstance(value, Phrase) else value
              for key, value in phrase.params.items()}
    if template.startswith("%("):
        name = template[2:template.index(")")]
        inner = phrase.params.get(name)
        if isinstance(inner, Phrase):
            values[name] = _sentence(inner, translate)
    else:
        template = template[:1].upper() + template[1:]
    return template % values if phrase.params else template


def address_label(address: EmailAddress) -> str:
    """The address as people write it: an IDN in Unicode (the local part is kept)."""
    return f"{address.local}@{display_domain(address.domain)}"


def _page_response(status: int, **context: object) -> Response:
    device = device_of(request.headers.get("User-Agent", ""))
    html = render_template(
        "apple/page.html",
        emailaddress=_echo(request.args, "emailaddress"),
        address_limit=ADDRESS_INPUT_LIMIT,
        name=_echo(request.args, "name"),
        lang=page_language(),
        chosen_lang=chosen_language(),
        languages=_language_links(),
        brand=host_brand(services()),
        device=device.value,
        order=SECTION_ORDER[device],
        **context,
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    # The page's language and section order follow these request headers.
    response.headers["Vary"] = "Accept-Language, User-Agent"
    return response


def page() -> Response:
    """The settings page: a form, and with an address, its settings and profiles."""
    if not any(key in request.args for key in (*PAGE_KEYS, *REFUSED_PARAMETERS)):
        return _page_response(200)  # nothing asked yet (perhaps only ?lang=)
    t = translator()
    try:
        query = read_query(request.args)
        found = services()
        served = find_config(found, found.store.snapshot, query.address.domain)
        require_protocol(served, query)
        config = for_user(found, served, query.address).config
    except ClientError as error:
        if isinstance(error, FieldError):
            invalid = error.field
        else:
            invalid = "emailaddress" if isinstance(error, UnknownDomainError) else ""
        return _page_response(
            error.status, error=error, error_text=_sentence(error.phrase, t), invalid=invalid,
        )
    phone_url = _phone_url(query)
    brand = host_brand(found)
    return _page_response(
        200,
        domain=config,
        address=address_label(query.address),
        # On provider A's own host, an address of provider B gets B's settings, said so
        # (compared by domain file: a reload between the two lookups changes no answer).
        other_provider=brand is not None and brand.config.source != served.source,
        domain_label=display_domain(query.address.domain),
        ascii_domain=query.address.domain,
        servers=_rows(INCOMING_TITLE, config.incoming, query.address, t)
        + _rows(OUTGOING_TITLE, config.outgoing, query.address, t),
        profiles=_profile_links(config, query),
        choose_protocol=all(config.incoming_of(protocol) for protocol in PROTOCOLS.values()),
        qr=Markup(qr_svg(phone_url)),  # noqa: S704 - segno's SVG: path data, no typed text
        signed=services().signer is not None,
    )


def stylesheet() -> Response:
    """The page's only style sheet, served from here so the CSP can stay 'self'."""
    css = render_template("apple/style.css")
    response = Response(css, content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def create_page_app(found: Services) -> Flask:
    """The page as a Flask application on the route table's page paths.

    Exceptions propagate to the front, which logs them once and answers 500.
    """
    app = Flask("autoconfig", template_folder=str(templates_dir()))
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.extensions[SERVICES_KEY] = found
    Babel(app, locale_selector=lambda: babel_locale(page_language()))
    views = {routes.PAGE.name: page, routes.APPLE_PAGE.name: page,
             routes.STYLESHEET.name: stylesheet}
    for route in routes.PAGE_ROUTES:
        app.add_url_rule(route.path, endpoint=route.name, view_func=views[route.name])
    return app
