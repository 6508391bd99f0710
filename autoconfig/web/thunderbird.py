"""Thunderbird autoconfig endpoints (docs/thunderbird.md; README "Endpoints")."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from werkzeug.http import parse_etags, quote_etag
from werkzeug.wrappers import Response

from autoconfig import hosts
from autoconfig.answers.documents import RenderedDocument
from autoconfig.render.thunderbird import render_thunderbird
from autoconfig.web.lookup import (
    address_from,
    config_from_host,
    current_documents,
    current_snapshot,
    find_config,
    for_user,
)

blueprint = Blueprint("thunderbird", __name__)

# Thunderbird tries autoconfig.<domain> first, then <domain>/.well-known
# (docs/thunderbird.md#discovery).
HOST_PREFIXES = (hosts.THUNDERBIRD,)
CONTENT_TYPE = "text/xml; charset=utf-8"


def shared_document_headers(document: RenderedDocument, max_age: int) -> dict[str, str]:
    """The validator and caching headers of a domain's document (the same for every user;
    also given by the fast path, autoconfig/web/fast_path.py). Plain strings: werkzeug's
    cache_control and make_conditional cost more than the rest of the view."""
    return {"ETag": quote_etag(document.etag), "Cache-Control": f"public, max-age={max_age}"}


@blueprint.get("/mail/config-v1.1.xml")
@blueprint.get("/.well-known/autoconfig/mail/config-v1.1.xml")
def client_config() -> Response:
    """The domain's clientConfig; ``emailaddress`` is optional (K-9, hardened profiles)."""
    snapshot = current_snapshot()
    raw_address = request.args.get("emailaddress", "")
    if raw_address:
        address = address_from(raw_address)
        config = find_config(snapshot, address.domain)
        user = for_user(config, address)
        if user.personal:  # this user's login name: for this client only, never shared
            response = Response(render_thunderbird(user.config), content_type=CONTENT_TYPE)
            response.headers["Cache-Control"] = "private, no-store"
            return response
    else:
        config = config_from_host(snapshot, request.host, HOST_PREFIXES)
    document = current_documents().thunderbird(config)
    max_age = current_app.config["AUTOCONFIG_SETTINGS"].cache_max_age
    headers = shared_document_headers(document, max_age)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and parse_etags(if_none_match).contains_weak(document.etag):
        return Response(status=304, headers=headers)
    return Response(document.body, headers=headers, content_type=CONTENT_TYPE)
