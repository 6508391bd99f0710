"""RFC 6764 section 5: ``/.well-known/caldav`` and ``/.well-known/carddav`` redirect.

Clients (Thunderbird after creating a mail account, DAVx5, Apple) ask the domain's own
website for these paths; the server MUST redirect them to the service's context path
(301, 303 or 307), here the domain file's ``caldav``/``carddav`` URL. The website
includes nginx/autoconfig-locations.conf to send the two paths here.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from autoconfig.errors import UnknownDomainError
from autoconfig.web.lookup import current_snapshot, domain_from_host

blueprint = Blueprint("wellknown", __name__)

# The website of <domain> itself, or the autoconfig names of the domain.
HOST_PREFIXES = ("autoconfig.", "ua-auto-config.")
# RFC 4918 PROPFIND is what DAV clients send first; GET/HEAD for browsers and probes.
METHODS = ["GET", "HEAD", "PROPFIND", "OPTIONS"]


def _redirect(kind: str) -> Response:
    domain, config = domain_from_host(current_snapshot(), request.host, HOST_PREFIXES)
    url: str | None = getattr(config, kind)
    if url is None:
        raise UnknownDomainError(f"{domain} offers no {kind} service")
    response = redirect(url, code=301)
    response.headers["Cache-Control"] = "no-store"  # the file may change; don't pin it
    return response


@blueprint.route("/.well-known/caldav", methods=METHODS)
def caldav() -> Response:
    """Redirect to the domain's CalDAV context path."""
    return _redirect("caldav")


@blueprint.route("/.well-known/carddav", methods=METHODS)
def carddav() -> Response:
    """Redirect to the domain's CardDAV context path."""
    return _redirect("carddav")
