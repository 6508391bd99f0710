"""The provider's logo and accent colour for the settings page on ``autoconfig.<domain>``.

Both come from this server, so the page's Content-Security-Policy (``'self'`` only, no
inline style) stays as it is: the logo as read and checked at load, the colour as a
one-rule style sheet. The page itself (``autoconfig/web/brand.py``) links to them.
"""

from __future__ import annotations

from autoconfig.address import AddressError, normalize_domain
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.domains.records import DomainConfig
from autoconfig.errors import UnknownDomainError

CACHE = ("Cache-Control", "public, max-age=3600")
# A logo opened on its own (an SVG could hold script) runs nothing and loads nothing.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
WHITE, BLACK = "#ffffff", "#000000"


def _config(services: Services, domain: str) -> DomainConfig:
    try:
        config = services.store.snapshot.registry.lookup(normalize_domain(domain))
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


def logo(ask: Ask, services: Services) -> Answer:
    """The logo the domain file names."""
    domain = ask.params["domain"]
    image = _config(services, domain).logo
    if image is None:
        raise UnknownDomainError(f"{domain} has no logo")
    headers = [
        ("Content-Type", image.content_type), CACHE, ("Content-Security-Policy", LOGO_CSP),
    ]
    return Answer(200, headers, image.data)


def theme(ask: Ask, services: Services) -> Answer:
    """The accent colour as a style sheet: no inline style, so the CSP stays strict."""
    domain = ask.params["domain"]
    color = _config(services, domain).accent_color
    if color is None:
        raise UnknownDomainError(f"{domain} has no accent colour")
    css = f":root {{ --accent: {color}; --on-accent: {text_on(color)}; }}\n"
    return Answer(200, [("Content-Type", "text/css; charset=utf-8"), CACHE], css.encode())
