"""Thunderbird autoconfig endpoints (docs/thunderbird.md; README "Endpoints")."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response

from autoconfig import hosts
from autoconfig.render.thunderbird import render_thunderbird
from autoconfig.web.lookup import (
    address_from,
    config_from_host,
    current_snapshot,
    find_config,
    for_user,
)

blueprint = Blueprint("thunderbird", __name__)

# Thunderbird tries autoconfig.<domain> first, then <domain>/.well-known
# (docs/thunderbird.md#discovery).
HOST_PREFIXES = (hosts.THUNDERBIRD,)


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
            response = Response(
                render_thunderbird(user.config), content_type="text/xml; charset=utf-8"
            )
            response.headers["Cache-Control"] = "private, no-store"
            return response
    else:
        config = config_from_host(snapshot, request.host, HOST_PREFIXES)
    document = snapshot.thunderbird_document(config)
    response = Response(document.body, content_type="text/xml; charset=utf-8")
    response.set_etag(document.etag)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["AUTOCONFIG_SETTINGS"].cache_max_age
    return response.make_conditional(request)
