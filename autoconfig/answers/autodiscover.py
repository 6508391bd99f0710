"""Outlook Autodiscover: POX (POST, and GET for Delta Chat) and the v2 JSON endpoint.

Paths match in any letter case (docs/autodiscover.md#discovery, docs/http.md#routing:
Outlook sends ``/Autodiscover/Autodiscover.xml``). Every error here answers in the
endpoint's own format (``pox_errors``, ``v2_errors``): a POX ``Error`` (``text/xml``) or
v2 JSON, never plain text. Credentials are neither needed nor read: Thunderbird sends
``Authorization: Basic`` with the user's password, and nothing here looks at headers
other than Content-Type and Host, or logs a body.
"""

from __future__ import annotations

import socket
import zlib
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus

from autoconfig import hosts
from autoconfig.answers.lookup import address_from, domain_from_host, find_config, for_user
from autoconfig.answers.policy import shared_cache
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.errors import ClientError, UnknownDomainError
from autoconfig.pox import ErrorCode, PoxError, parse_request
from autoconfig.render.autodiscover import (
    render_mobilesync_settings,
    render_pox_error,
    render_pox_personal,
    render_pox_settings,
    render_v2,
    render_v2_error,
    render_v2_invalid_protocol,
    v2_urls,
)

POX_CONTENT_TYPE = "text/xml; charset=utf-8"  # docs/http.md#content-types, errors included
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# Content types a POX body may come with; none at all is tolerated too. Outlook,
# Thunderbird and ActiveSync send text/xml (MS-ASCMD 2.2.1.1); a form post is no client.
XML_MIMETYPES = frozenset({"", "text/xml", "application/xml"})
# Clients look for the POX URL on <domain> and autodiscover.<domain>
# (docs/autodiscover.md#discovery).
HOST_PREFIXES = (hosts.AUTODISCOVER,)


@cache
def server_id() -> int:
    """The ``Id`` of POX errors: a stable hash of this host's name, as Exchange does."""
    return zlib.crc32(socket.gethostname().encode("utf-8", "replace"))


def _pox(body: bytes, status: int = HTTPStatus.OK, *extra: tuple[str, str]) -> Answer:
    return Answer(status, [("Content-Type", POX_CONTENT_TYPE), *extra], body)


def _json(body: bytes, status: int = HTTPStatus.OK) -> Answer:
    return Answer(status, [("Content-Type", JSON_CONTENT_TYPE)], body)


def _is_xml(content_type: str) -> bool:
    """Whether a Content-Type names XML (or is absent), parameters aside."""
    return content_type.partition(";")[0].strip().lower() in XML_MIMETYPES


def pox_post(ask: Ask, services: Services) -> Answer:
    """Outlook, Thunderbird and ActiveSync clients POST their request here."""
    if not _is_xml(ask.content_type):
        raise PoxError(ErrorCode.INVALID_REQUEST, "the request body must be text/xml",
                       status=HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    parsed = parse_request(ask.body)
    try:
        config = find_config(services, services.store.snapshot, parsed.address.domain)
    except UnknownDomainError:
        raise PoxError(
            ErrorCode.ADDRESS_NOT_FOUND,
            "no mail settings are served for this domain",
            mobilesync=parsed.mobilesync,
        ) from None
    user = for_user(services, config, parsed.address)
    if parsed.mobilesync:
        if config.activesync is None:  # MS-ASCMD 2.2.1.1: no provider for that schema
            raise PoxError(
                ErrorCode.SCHEMA_NOT_AVAILABLE,
                "no ActiveSync server is served for this domain",
                mobilesync=True,
            )
        return _pox(render_mobilesync_settings(user.config, parsed.address, user.name))
    # The per-domain prepared answer only for the domain's own record (see render_pox_settings).
    render = render_pox_settings if user.config is config else render_pox_personal
    return _pox(render(user.config, parsed.address.domain, parsed.address))


def pox_get(ask: Ask, services: Services) -> Answer:
    """Delta Chat GETs the POX URL without a body: the settings of the Host's domain."""
    try:
        domain, config = domain_from_host(
            services, services.store.snapshot, ask.host, HOST_PREFIXES
        )
    except ClientError:
        raise PoxError(
            ErrorCode.ADDRESS_NOT_FOUND, "the Host header names no domain served here"
        ) from None
    return _pox(
        render_pox_settings(config, domain), HTTPStatus.OK,
        shared_cache(services.settings.cache_max_age),
    )


def _v2_answer(raw_address: str, ask: Ask, services: Services) -> Answer:
    """The URL of the service ``Protocol`` names (compared in any letter case: Outlook
    sends ``Autodiscoverv1``); the domain is looked up first, so which protocols it
    offers decides the answer."""
    protocol = ask.query.get_any_case("Protocol")
    address = address_from(raw_address)
    config = find_config(services, services.store.snapshot, address.domain)
    supported = tuple(v2_urls(config))
    name = next((known for known in supported if known.lower() == protocol.lower()), None)
    if name is None:
        return _json(render_v2_invalid_protocol(protocol, supported), HTTPStatus.BAD_REQUEST)
    return _json(render_v2(config, name))


def v2_query(ask: Ask, services: Services) -> Answer:
    """``/autodiscover/autodiscover.json?Email=…&Protocol=AutodiscoverV1``."""
    return _v2_answer(ask.query.get_any_case("Email"), ask, services)


def v2_path(ask: Ask, services: Services) -> Answer:
    """``/autodiscover/autodiscover.json/v1.0/<address>?Protocol=AutodiscoverV1``."""
    return _v2_answer(ask.params["address"], ask, services)


# --- errors, in each endpoint's own format ---------------------------------------------


def pox_errors(error: ClientError | None, ask: Ask) -> Answer:
    """Any error on the POX URL as a POX ``Error`` (the mobilesync schema when the
    request was an ActiveSync one)."""
    if error is None:
        error = PoxError(ErrorCode.INTERNAL_ERROR, "internal server error")
    elif not isinstance(error, PoxError):
        error = PoxError(ErrorCode.INVALID_REQUEST, error.message, status=error.status)
    now = datetime.now(UTC).time()
    body = render_pox_error(
        error.code, now, server_id(), reason=error.reason, mobilesync=error.mobilesync
    )
    return _pox(body, error.status)


# v2 error codes: InvalidProtocol is Microsoft's (docs/autodiscover.md#autodiscover-v2-json);
# the others are ours, in the same shape, so a client reads every v2 error the same way.
_V2_ERRORS: dict[int, tuple[str, str]] = {
    HTTPStatus.BAD_REQUEST: ("InvalidEmailAddress", "The given email address is invalid."),
    HTTPStatus.NOT_FOUND: ("DomainNotFound", "No mail settings are served for this domain."),
    HTTPStatus.INTERNAL_SERVER_ERROR: ("InternalError", "Internal server error"),
}


def v2_errors(error: ClientError | None, ask: Ask) -> Answer:
    """Any error on the v2 URLs as v2 JSON."""
    status = HTTPStatus.INTERNAL_SERVER_ERROR if error is None else HTTPStatus(error.status)
    if isinstance(error, UnknownDomainError):
        status = HTTPStatus.NOT_FOUND
    code, message = _V2_ERRORS.get(status, ("InvalidRequest", status.phrase))
    return _json(render_v2_error(code, message), status)
