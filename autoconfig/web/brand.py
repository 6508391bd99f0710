"""The provider's own look on ``autoconfig.<domain>``: name, logo and accent colour.

The settings page greets people on a provider's host with that provider's name and
links to the logo and theme the answers serve (``autoconfig/answers/brand.py``). A host
that names no served domain gets the generic page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from autoconfig import hosts
from autoconfig.address import AddressError, display_domain, host_without_port, normalize_domain
from autoconfig.answers import routes
from autoconfig.answers.services import Services
from autoconfig.domains.records import DomainConfig


@dataclass(frozen=True, slots=True)
class Brand:
    """What the page shows of the provider whose host it is served on."""

    name: str
    domain: str  # the host's mail domain as people write it, for "@domain" hints
    logo_url: str | None
    theme_url: str | None
    config: DomainConfig  # the host's settings: an address served by others is told apart


def host_brand(services: Services) -> Brand | None:
    """The provider of this request's ``autoconfig.<domain>`` host, None elsewhere."""
    try:
        name = normalize_domain(host_without_port(request.host))
    except AddressError:
        return None
    if not name.startswith(hosts.THUNDERBIRD):  # the host name DNS points at this server
        return None
    domain = name[len(hosts.THUNDERBIRD):]
    config = services.store.snapshot.registry.lookup(domain)
    if config is None:
        return None
    root = request.script_root
    return Brand(
        name=config.name,
        domain=display_domain(domain),
        logo_url=root + routes.LOGO.url(domain=domain) if config.logo else None,
        theme_url=root + routes.THEME.url(domain=domain) if config.accent_color else None,
        config=config,
    )
