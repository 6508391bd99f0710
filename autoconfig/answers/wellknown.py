"""RFC 6764 section 5: ``/.well-known/caldav`` and ``/.well-known/carddav`` redirect.

Clients (Thunderbird after creating a mail account, DAVx5, Apple) ask the domain's own
website for these paths; the server MUST redirect them to the service's context path
(301, 303 or 307), here the domain file's ``caldav``/``carddav`` URL. The website
includes nginx/autoconfig-locations.conf to send the two paths here.
"""

from __future__ import annotations

from autoconfig import hosts
from autoconfig.answers.lookup import domain_from_host
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.errors import UnknownDomainError

# The website of <domain> itself, or the autoconfig names of the domain.
HOST_PREFIXES = (hosts.THUNDERBIRD, hosts.PACC)
# RFC 4918 PROPFIND is what DAV clients send first; GET/HEAD for browsers and probes.
METHODS = ("GET", "PROPFIND", "OPTIONS")


def _redirect(kind: str, ask: Ask, services: Services) -> Answer:
    snapshot = services.store.snapshot
    domain, config = domain_from_host(services, snapshot, ask.host, HOST_PREFIXES)
    url: str | None = getattr(config, kind)
    if url is None:
        raise UnknownDomainError(f"{domain} offers no {kind} service")
    headers = [
        ("Location", url),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Cache-Control", "no-store"),  # the file may change; don't pin it
    ]
    return Answer(301, headers, f"redirecting to {url}\n".encode())


def caldav(ask: Ask, services: Services) -> Answer:
    """Redirect to the domain's CalDAV context path."""
    return _redirect("caldav", ask, services)


def carddav(ask: Ask, services: Services) -> Answer:
    """Redirect to the domain's CardDAV context path."""
    return _redirect("carddav", ask, services)
