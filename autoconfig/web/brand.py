"""The provider's own look on ``autoconfig.<domain>``: name, logo and accent colour.

The settings page greets people on a provider's host with that provider's name; the
logo and a one-rule style sheet with its accent colour come from this server, so the
page's Content-Security-Policy (``'self'`` only, no inline style) stays as it is.
A host that names no served domain gets the generic page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, request, url_for
from werkzeug.wrappers import Response

from autoconfig.address import AddressError, display_domain, host_without_port, normalize_domain
from autoconfig.domains.records import DomainConfig
from autoconfig.errors import UnknownDomainError
from autoconfig.web.lookup import current_snapshot

blueprint = Blueprint("brand", __name__)

PAGE_HOST_PREFIX = "autoconfig."  # the host name DNS points at this server (RFC 6186 peers)
CACHE = "public, max-age=3600"
# A logo opened on its own (an SVG could hold script) runs nothing and loads nothing.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
WHITE, BLACK = "#ffffff", "#000000"


@dataclass(frozen=True, slots=True)
class Brand:
    """What the page shows of the provider whose host it is served on."""

    name: str
    domain: str  # the host's mail domain as people write it, for "@domain" hints
    logo_url: str | None
    theme_url: str | None


def _served_domain(host: str) -> tuple[str, DomainConfig] | None:
    try:
        name = normalize_domain(host_without_port(host))
    except AddressError:
        return None
    if not name.startswith(PAGE_HOST_PREFIX):
        return None
    domain = name[len(PAGE_HOST_PREFIX):]
    config = current_snapshot().registry.lookup(domain)
    return (domain, config) if config is not None else None


def host_brand() -> Brand | None:
    """The provider of this request's ``autoconfig.<domain>`` host, None elsewhere."""
    served = _served_domain(request.host)
    if served is None:
        return None
    domain, config = served
    return Brand(
        name=config.name,
        domain=display_domain(domain),
        logo_url=url_for("brand.logo", domain=domain) if config.logo else None,
        theme_url=url_for("brand.theme", domain=domain) if config.accent_color else None,
    )


def _config(domain: str) -> DomainConfig:
    try:
        config = current_snapshot().registry.lookup(normalize_domain(domain))
    except AddressError:
        config = None
    if config is None:
        raise UnknownDomainError(f"no mail settings are served for {domain}")
    return config


def _luminance(color: str) -> float:
    """Relative luminance of #RRGGBB (WCAG 2.1, definition of relative luminance)."""
    channels = []
    for start in (1, 3, 5):
        value = int(color[start:start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two #RRGGBB colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(color: str) -> str:
    """White or black, whichever reads better on ``color`` (always at least 4.5:1)."""
    return WHITE if contrast(color, WHITE) >= contrast(color, BLACK) else BLACK


@blueprint.get("/brand/<domain>/logo")
def logo(domain: str) -> Response:
    """The logo the domain file names, as read and checked at load."""
    image = _config(domain).logo
    if image is None:
        raise UnknownDomainError(f"{domain} has no logo")
    response = Response(image.data, content_type=image.content_type)
    response.headers.update({
        "Cache-Control": CACHE, "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": LOGO_CSP,
    })
    return response


@blueprint.get("/brand/<domain>/theme.css")
def theme(domain: str) -> Response:
    """The accent colour as a style sheet: no inline style, so the CSP stays strict."""
    color = _config(domain).accent_color
    if color is None:
        raise UnknownDomainError(f"{domain} has no accent colour")
    css = f":root {{ --accent: {color}; --on-accent: {text_on(color)}; }}\n"
    response = Response(css, content_type="text/css; charset=utf-8")
    response.headers.update({"Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"})
    return response
