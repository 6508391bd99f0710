"""Outlook Autodiscover endpoints: POX (POST, and GET for Delta Chat) and v2 JSON.

Paths match in any letter case (docs/autodiscover.md#discovery, docs/http.md#routing:
Outlook sends ``/Autodiscover/Autodiscover.xml``). Every error raised here answers in
the endpoint's own format: a POX ``Error`` (``text/xml``) or v2 JSON, never the
app's plain text. Credentials are neither needed nor read: Thunderbird sends
``Authorization: Basic`` with the user's password, and nothing here looks at
headers other than Content-Type, Content-Length and Host, or logs a body.
"""

from __future__ import annotations

import logging
import re
import socket
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map

from autoconfig import hosts
from autoconfig.address import host_without_port, normalize_domain
from autoconfig.domains.records import DomainConfig
from autoconfig.errors import ClientError, UnknownDomainError
from autoconfig.pox import MAX_BODY_BYTES, ErrorCode, PoxError, parse_request
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
from autoconfig.web.lookup import (
    address_from,
    config_from_host,
    current_snapshot,
    find_config,
    for_user,
)

log = logging.getLogger("autoconfig")

blueprint = Blueprint("autodiscover", __name__)

POX_CONTENT_TYPE = "text/xml; charset=utf-8"  # docs/http.md#content-types, errors included
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# Content types a POX body may come with; none at all is tolerated too. Outlook,
# Thunderbird and ActiveSync send text/xml (MS-ASCMD 2.2.1.1); a form post is no client.
XML_MIMETYPES = frozenset({"", "text/xml", "application/xml"})
# Content-Type values as Outlook, Thunderbird and ActiveSync send them, all of XML_MIMETYPES.
PLAIN_XML_CONTENT_TYPES = frozenset({
    "", "text/xml", "application/xml", "text/xml; charset=utf-8", "text/xml; charset=UTF-8",
    "text/xml;charset=utf-8", "application/xml; charset=utf-8",
})
# Clients look for the POX URL on <domain> and autodiscover.<domain>
# (docs/autodiscover.md#discovery).
HOST_PREFIXES = (hosts.AUTODISCOVER,)
_READ_CHUNK = 16 * 1024
_V2_ENDPOINTS = frozenset({"autodiscover.v2_query", "autodiscover.v2_path"})


class AnyCase(BaseConverter):
    """One fixed path segment in any letter case: ``<autodiscover_anycase("x"):_>``."""

    def __init__(self, url_map: Map, word: str) -> None:
        super().__init__(url_map)
        self.regex = f"(?i:{re.escape(word)})"


def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["autodiscover_anycase"] = AnyCase


blueprint.record_once(_register_converter)  # before the rules below are added


def _any_case(path: str) -> str:
    """A rule whose every segment matches in any letter case."""
    segments = [s for s in path.split("/") if s]
    return "".join(
        f'/<autodiscover_anycase("{segment}"):_{index}>' for index, segment in enumerate(segments)
    )


POX_RULE = _any_case("/autodiscover/autodiscover.xml")
# The spellings clients send (Outlook capitalises, others do not) as static rules too,
# for the same views: werkzeug tries static paths before converters, a third of the
# cost of matching.
POX_PATHS = ("/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml")
V2_RULE = _any_case("/autodiscover/autodiscover.json")
V2_PATH_RULE = _any_case("/autodiscover/autodiscover.json/v1.0") + "/<path:address>"


@cache
def server_id() -> int:
    """The ``Id`` of POX errors: a stable hash of this host's name, as Exchange does."""
    return zlib.crc32(socket.gethostname().encode("utf-8", "replace"))


def _pox_response(body: bytes, status: int = HTTPStatus.OK, *, cacheable: bool = False) -> Response:
    response = Response(body, status=status, content_type=POX_CONTENT_TYPE)
    if cacheable:  # the same for every user of the domain (docs/http.md#caching)
        response.cache_control.public = True
        response.cache_control.max_age = current_app.config["AUTOCONFIG_SETTINGS"].cache_max_age
    return response


def _pox_error(error: PoxError) -> Response:
    now = datetime.now(UTC).time()
    body = render_pox_error(
        error.code, now, server_id(), reason=error.reason, mobilesync=error.mobilesync
    )
    return _pox_response(body, error.status)


def _json_response(body: bytes, status: int = HTTPStatus.OK) -> Response:
    return Response(body, status=status, content_type=JSON_CONTENT_TYPE)


def _too_large() -> PoxError:
    return PoxError(ErrorCode.INVALID_REQUEST, "the request body is too large",
                    status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def _is_xml_body() -> bool:
    """Whether the Content-Type is one of ``XML_MIMETYPES`` (or absent); the values
    clients send are known without werkzeug parsing the header."""
    content_type = request.environ.get("CONTENT_TYPE", "")
    return content_type in PLAIN_XML_CONTENT_TYPES or request.mimetype in XML_MIMETYPES


def _read_body() -> bytes:
    """The request body, read no further than the cap: a body without Content-Length
    (chunked) is refused with 413 as soon as it passes it. The view checks a declared
    Content-Length before anything is read."""
    chunks: list[bytes] = []
    total = 0
    while chunk := request.stream.read(_READ_CHUNK):  # chunked bodies have no length
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@blueprint.post(POX_PATHS[0])
@blueprint.post(POX_PATHS[1])
@blueprint.post(POX_RULE)
def pox_post(**_segments: str) -> Response:
    """Outlook, Thunderbird and ActiveSync clients POST their request here."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise _too_large()
    if not _is_xml_body():
        raise PoxError(ErrorCode.INVALID_REQUEST, "the request body must be text/xml",
                       status=HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    parsed = parse_request(_read_body())
    try:
        config = find_config(current_snapshot(), parsed.address.domain)
    except UnknownDomainError:
        raise PoxError(
            ErrorCode.ADDRESS_NOT_FOUND,
            "no mail settings are served for this domain",
            mobilesync=parsed.mobilesync,
        ) from None
    user = for_user(config, parsed.address)
    if parsed.mobilesync:
        if config.activesync is None:  # MS-ASCMD 2.2.1.1: no provider for that schema
            raise PoxError(
                ErrorCode.SCHEMA_NOT_AVAILABLE,
                "no ActiveSync server is served for this domain",
                mobilesync=True,
            )
        return _pox_response(render_mobilesync_settings(user.config, parsed.address, user.name))
    # The per-domain prepared answer only for the domain's own record (see render_pox_settings).
    render = render_pox_settings if user.config is config else render_pox_personal
    return _pox_response(render(user.config, parsed.address.domain, parsed.address))


def _domain_from_host(host: str) -> tuple[DomainConfig, str]:
    """The served domain a Host header names: ``<domain>`` or ``autodiscover.<domain>``."""
    snapshot = current_snapshot()
    try:
        config = config_from_host(snapshot, host, HOST_PREFIXES)
    except ClientError:
        raise PoxError(
            ErrorCode.ADDRESS_NOT_FOUND, "the Host header names no domain served here"
        ) from None
    name = normalize_domain(host_without_port(host))  # config_from_host accepted it
    if snapshot.registry.lookup(name) is not config:  # matched without the prefix
        name = next((name[len(p):] for p in HOST_PREFIXES if name.startswith(p)), name)
    return config, name


@blueprint.get(POX_PATHS[0])
@blueprint.get(POX_PATHS[1])
@blueprint.get(POX_RULE)
def pox_get(**_segments: str) -> Response:
    """Delta Chat GETs the POX URL without a body: the settings of the Host's domain."""
    config, domain = _domain_from_host(request.host)
    return _pox_response(render_pox_settings(config, domain), cacheable=True)


def _arg(name: str) -> str:
    """A query parameter by name in any letter case (``Email``, ``email``, ...)."""
    wanted = name.lower()
    for key, value in request.args.items(multi=True):
        if key.lower() == wanted:
            return value
    return ""


def _v2_answer(raw_address: str) -> Response:
    """The URL of the service ``Protocol`` names (compared in any letter case: Outlook
    sends ``Autodiscoverv1``); the domain is looked up first, so which protocols it
    offers decides the answer."""
    protocol = _arg("Protocol")
    config = find_config(current_snapshot(), address_from(raw_address).domain)
    supported = tuple(v2_urls(config))
    name = next((known for known in supported if known.lower() == protocol.lower()), None)
    if name is None:
        body = render_v2_invalid_protocol(protocol, supported)
        return _json_response(body, HTTPStatus.BAD_REQUEST)
    return _json_response(render_v2(config, name))


@blueprint.get(V2_RULE)
def v2_query(**_segments: str) -> Response:
    """``/autodiscover/autodiscover.json?Email=…&Protocol=AutodiscoverV1``."""
    return _v2_answer(_arg("Email"))


@blueprint.get(V2_PATH_RULE)
def v2_path(address: str, **_segments: str) -> Response:
    """``/autodiscover/autodiscover.json/v1.0/<address>?Protocol=AutodiscoverV1``."""
    return _v2_answer(address)


# --- errors, in each endpoint's own format ---------------------------------------------

# v2 error codes: InvalidProtocol is Microsoft's (docs/autodiscover.md#autodiscover-v2-json);
# the other two are ours, in the same shape, so a client reads every v2 error the same way.
_V2_CODES: dict[int, str] = {
    HTTPStatus.BAD_REQUEST: "InvalidEmailAddress", HTTPStatus.NOT_FOUND: "DomainNotFound",
}
_V2_MESSAGES: dict[int, str] = {
    HTTPStatus.BAD_REQUEST: "The given email address is invalid.",
    HTTPStatus.NOT_FOUND: "No mail settings are served for this domain.",
}


def _is_v2() -> bool:
    return request.endpoint in _V2_ENDPOINTS


def _client_error(error: ClientError) -> Response:
    if isinstance(error, PoxError):
        return _pox_error(error)
    if _is_v2():
        unknown = isinstance(error, UnknownDomainError)
        status = HTTPStatus.NOT_FOUND if unknown else HTTPStatus.BAD_REQUEST
        return _json_response(render_v2_error(_V2_CODES[status], _V2_MESSAGES[status]), status)
    return _pox_error(PoxError(ErrorCode.INVALID_REQUEST, "invalid request", status=error.status))


def _http_error(error: HTTPException) -> Response:
    status = error.code or HTTPStatus.BAD_REQUEST
    if _is_v2():
        return _json_response(render_v2_error("InvalidRequest", error.name), status)
    server_side = status >= HTTPStatus.INTERNAL_SERVER_ERROR
    code = ErrorCode.INTERNAL_ERROR if server_side else ErrorCode.INVALID_REQUEST
    return _pox_error(PoxError(code, error.name, status=status))


def _unexpected(error: Exception) -> Response:
    log.exception("unexpected error while answering an Autodiscover request")
    if _is_v2():
        return _json_response(render_v2_error("InternalError", "Internal server error"),
                              HTTPStatus.INTERNAL_SERVER_ERROR)
    return _pox_error(PoxError(ErrorCode.INTERNAL_ERROR, "internal server error"))


_HANDLERS: tuple[tuple[type[Exception], Callable[[Any], Response]], ...] = (
    (ClientError, _client_error),
    (HTTPException, _http_error),
    (Exception, _unexpected),
)
for _exception, _handler in _HANDLERS:
    blueprint.register_error_handler(_exception, _handler)
