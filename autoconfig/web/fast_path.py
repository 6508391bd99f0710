"""The answers clients ask for most, given straight from WSGI, without Flask.

Thunderbird's ``GET /mail/config-v1.1.xml?emailaddress=…``, Outlook's POX ``POST`` and
the Apple profile download are almost every request a mail server's autoconfig host
sees, and for a domain a file lists their answer is prepared once per domain
(``Snapshot.thunderbird_document``, ``render_pox_settings``,
``render_domain_mobileconfig``). Flask's request context, routing, response object and
hooks cost more than that answer: measured on gunicorn, they made the service half as
fast as a bare Flask app returning the same bytes (README "Benchmarks").

So this middleware answers exactly those requests itself, with the same bytes and headers
as the Flask views (tests/test_fast_path.py compares the two), and hands everything else
to Flask untouched: another query or Content-Type, an unknown domain or one found by MX,
a directory-backed (per-user) answer, a conditional request, a bad address, a bad body,
an ActiveSync request, a profile in a language no request has asked for yet. Those go
through the views, their error answers and their logs, as before. Nothing here decides
an error: the rule is "answer only what is certain".
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.wrappers import Request

from autoconfig.address import AddressError, parse_address
from autoconfig.answers.documents import Documents
from autoconfig.answers.metrics import Metrics
from autoconfig.domains.records import DomainConfig
from autoconfig.domains.store import ConfigStore, Snapshot
from autoconfig.errors import ClientError
from autoconfig.i18n import TRANSLATORS_KEY, language_of
from autoconfig.phrases import Translator
from autoconfig.pox import MAX_BODY_BYTES, PoxError, parse_request
from autoconfig.render.autodiscover import render_pox_settings
from autoconfig.render.mobileconfig import ProfileOptions, render_domain_mobileconfig
from autoconfig.signing import Signer
from autoconfig.web.apple import (
    PROFILE_CONTENT_TYPE,
    SIGNER_KEY,
    profile_disposition,
    read_query,
    require_protocol,
)
from autoconfig.web.autodiscover import PLAIN_XML_CONTENT_TYPES, POX_CONTENT_TYPE, POX_PATHS
from autoconfig.web.lookup import DIRECTORY_KEY, DOCUMENTS_KEY, STORE_KEY
from autoconfig.web.metrics import METRICS_KEY
from autoconfig.web.policy import COMMON_HEADERS, DEFAULT_CACHE_CONTROL
from autoconfig.web.thunderbird import CONTENT_TYPE as THUNDERBIRD_CONTENT_TYPE
from autoconfig.web.thunderbird import shared_document_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

THUNDERBIRD_PATHS = frozenset({
    "/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml",
})
# The query Thunderbird sends: the address alone, its '@' plain or percent-encoded.
# Anything else (other keys, other escapes, '+') is read by werkzeug in the view.
_THUNDERBIRD_QUERY = re.compile(r"emailaddress=((?:[A-Za-z0-9._@-]|%40)+)")
# Flask endpoints the answers are counted under in /metrics (autoconfig/answers/metrics.py).
THUNDERBIRD_ENDPOINT = "thunderbird.client_config"
POX_ENDPOINT = "autodiscover.pox_post"
PROFILE_PATH = "/apple/profile.mobileconfig"
PROFILE_ENDPOINT = "apple.profile"

Answer = tuple[bytes, list[tuple[str, str]]]


class FastPath:
    """WSGI middleware in front of the Flask app (inside the proxy fix, so the access
    log sees the client's address either way)."""

    def __init__(self, app: Flask, flask_wsgi: WSGIApplication) -> None:
        self.views = flask_wsgi  # the Flask app: every request not answered here
        self._store: ConfigStore = app.extensions[STORE_KEY]
        self._documents: Documents = app.extensions[DOCUMENTS_KEY]
        self._metrics: Metrics = app.extensions[METRICS_KEY]
        self._has_directory = app.extensions.get(DIRECTORY_KEY) is not None
        settings = app.config["AUTOCONFIG_SETTINGS"]
        self._max_age = settings.cache_max_age
        self._profile_prefix: str = settings.profile_prefix
        self._signer: Signer | None = app.extensions.get(SIGNER_KEY)
        # The views fill it, one translator per language asked for (autoconfig/i18n.py).
        self._translators: dict[str, Translator] = app.extensions[TRANSLATORS_KEY]
        self._common = list(COMMON_HEADERS.items())

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer a plain Thunderbird GET, POX POST or profile here; anything else in Flask."""
        started = time.perf_counter()
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        answer: Answer | None = None
        endpoint = ""
        try:
            if method == "GET" and path in THUNDERBIRD_PATHS:
                answer, endpoint = self._thunderbird(environ), THUNDERBIRD_ENDPOINT
            elif method == "POST" and path in POX_PATHS:
                answer, endpoint = self._pox(environ), POX_ENDPOINT
            elif method == "GET" and path == PROFILE_PATH:
                answer, endpoint = self._profile(environ), PROFILE_ENDPOINT
        except Exception:  # a bug: the views answer instead, with their error handling
            answer = None
        if answer is None:
            return self.views(environ, start_response)
        body, headers = answer
        headers.append(("Content-Length", str(len(body))))
        headers.extend(self._common)
        start_response("200 OK", headers)
        self._metrics.request_done(endpoint, 200, time.perf_counter() - started)
        return [body]

    def _served(self, snapshot: Snapshot, ascii_domain: str) -> DomainConfig | None:
        """The record a file gives ``ascii_domain``, if its answer is the same for every
        user (no directory lookup); None sends the request to Flask."""
        config = snapshot.registry.lookup(ascii_domain)
        if config is None or (config.directory is not None and self._has_directory):
            return None
        return config

    def _thunderbird(self, environ: WSGIEnvironment) -> Answer | None:
        """The domain's prepared clientConfig, as ``web.thunderbird.client_config``."""
        match = _THUNDERBIRD_QUERY.fullmatch(environ.get("QUERY_STRING", ""))
        if match is None or "HTTP_IF_NONE_MATCH" in environ:
            return None
        try:
            address = parse_address(match.group(1).replace("%40", "@"))
        except AddressError:
            return None
        snapshot = self._store.snapshot
        config = self._served(snapshot, address.domain)
        if config is None:
            return None
        document = self._documents.of(snapshot).thunderbird(config)
        headers = shared_document_headers(document, self._max_age)
        return document.body, [("Content-Type", THUNDERBIRD_CONTENT_TYPE), *headers.items()]

    def _pox(self, environ: WSGIEnvironment) -> Answer | None:
        """Outlook's settings, as ``web.autodiscover.pox_post``."""
        body = _plain_xml_body(environ)
        if body is None:
            return None
        try:
            parsed = parse_request(body)
        except PoxError:
            return None
        config = None if parsed.mobilesync else self._served(
            self._store.snapshot, parsed.address.domain
        )
        if config is None:
            return None
        return render_pox_settings(config, parsed.address.domain, parsed.address), [
            ("Content-Type", POX_CONTENT_TYPE), ("Cache-Control", DEFAULT_CACHE_CONTROL),
        ]

    def _profile(self, environ: WSGIEnvironment) -> Answer | None:
        """The domain's profile for one address, as ``web.apple.profile``: the query and
        the language are read by werkzeug and the view's own rules."""
        asking = Request(environ)
        try:
            query = read_query(asking.args)
            config = self._served(self._store.snapshot, query.address.domain)
            if config is None:
                return None
            require_protocol(config, query)
        except ClientError:
            return None
        translate = self._translators.get(language_of(asking))
        if translate is None:
            return None
        options = ProfileOptions(
            self._profile_prefix, query.protocol, query.account_name, query.activesync, translate
        )
        body = render_domain_mobileconfig(config, query.address, options)
        if self._signer is not None:
            body = self._signer.sign(body)
        return body, [
            ("Content-Type", PROFILE_CONTENT_TYPE),
            ("Content-Disposition", profile_disposition(query.address)),
            ("Cache-Control", DEFAULT_CACHE_CONTROL),
        ]


def _plain_xml_body(environ: WSGIEnvironment) -> bytes | None:
    """The body of a POST as Outlook sends one (XML, with a length within the limit),
    read and put back for Flask as it came; None, unread, for any other."""
    if environ.get("CONTENT_TYPE", "") not in PLAIN_XML_CONTENT_TYPES:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY_BYTES or "HTTP_TRANSFER_ENCODING" in environ:
        return None
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def install_fast_path(app: Flask) -> None:
    """Put ``FastPath`` in front of ``app``'s WSGI callable."""
    app.wsgi_app = FastPath(app, app.wsgi_app)  # type: ignore[method-assign]
