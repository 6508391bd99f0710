"""PACC: ``/.well-known/user-agent-configuration.json`` on ``ua-auto-config.<domain>``.

The domain comes from the Host header (as for Thunderbird's ``autoconfig.<domain>``);
the body is the prerendered document, byte for byte what ``dns records`` hashed. It is
public, so any origin may read it (``Access-Control-Allow-Origin: *``, as Stalwart serves
it), and cacheable like the Thunderbird document (docs/pacc.md).
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response

from autoconfig.render.pacc import CONTENT_TYPE, HOST_PREFIX, WELL_KNOWN_PATH
from autoconfig.web.lookup import current_documents, current_snapshot, domain_from_host

blueprint = Blueprint("pacc", __name__)


@blueprint.get(WELL_KNOWN_PATH)
def user_agent_configuration() -> Response:
    """The PACC document of the domain the Host header names."""
    snapshot = current_snapshot()
    domain, config = domain_from_host(snapshot, request.host, (f"{HOST_PREFIX}.",))
    document = current_documents().pacc(config, domain)
    response = Response(document.body, content_type=CONTENT_TYPE)
    response.set_etag(document.etag)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["AUTOCONFIG_SETTINGS"].cache_max_age
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)
