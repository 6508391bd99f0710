"""The route table: every path the server answers, declared once.

Each ``Route`` names its path (``{name}`` marks a parameter: ``{domain}`` one segment,
``{address}`` the rest of the path), the answer function per method, the client family
it is counted under in ``/metrics``, and the error format its clients read. Routes
without answer functions are the settings page's: the front hands them to the page
application (``autoconfig/web/page.py``), which registers its views on these paths.
The shipped nginx config, the tests and the docs name paths too; the serving code
declares them here only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from autoconfig.answers import apple, autodiscover, brand, operators, pacc, thunderbird, wellknown
from autoconfig.answers.errors import ErrorFormat, plain_text_errors
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.pox import MAX_BODY_BYTES
from autoconfig.render.pacc import WELL_KNOWN_PATH as PACC_PATH

AnswerFunction = Callable[[Ask, Services], Answer]

_PARAMETER = re.compile(r"\{(domain|address)\}")
_PARAMETER_PATTERNS = {"domain": "[^/]+", "address": ".+"}


@dataclass(frozen=True, slots=True)
class Route:
    """One path and how each method on it is answered."""

    name: str
    path: str
    family: str  # the /metrics family (autoconfig/answers/metrics.py FAMILIES)
    answers: Mapping[str, AnswerFunction] = field(default_factory=dict)  # empty: the page
    errors: ErrorFormat = plain_text_errors
    any_case: bool = False  # Outlook capitalises (docs/http.md#routing)
    max_body: int = 0  # bytes of request body read for the answer; 0 reads none

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods answered, HEAD wherever GET is (the front drops the body)."""
        declared = tuple(self.answers) or ("GET",)
        return (*declared, "HEAD") if "GET" in declared else declared

    @property
    def is_page(self) -> bool:
        """Whether the page application answers this path."""
        return not self.answers

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """The path as a regular expression when it has parameters, else None."""
        if not _PARAMETER.search(self.path):
            return None
        parts = _PARAMETER.split(self.path)
        regex = "".join(
            f"(?P<{part}>{_PARAMETER_PATTERNS[part]})" if index % 2 else re.escape(part)
            for index, part in enumerate(parts)
        )
        return re.compile(regex, re.IGNORECASE if self.any_case else 0)

    def url(self, **params: str) -> str:
        """The path with its parameters filled in, each percent-encoded."""
        return _PARAMETER.sub(lambda match: quote(params[match.group(1)], safe="@"), self.path)


THUNDERBIRD = Route(
    "thunderbird", "/mail/config-v1.1.xml", "thunderbird", {"GET": thunderbird.client_config}
)
THUNDERBIRD_WELL_KNOWN = Route(
    "thunderbird_well_known", "/.well-known/autoconfig/mail/config-v1.1.xml", "thunderbird",
    {"GET": thunderbird.client_config},
)
POX = Route(
    "autodiscover_pox", "/autodiscover/autodiscover.xml", "autodiscover_pox",
    {"POST": autodiscover.pox_post, "GET": autodiscover.pox_get},
    errors=autodiscover.pox_errors, any_case=True, max_body=MAX_BODY_BYTES,
)
V2_QUERY = Route(
    "autodiscover_v2", "/autodiscover/autodiscover.json", "autodiscover_v2",
    {"GET": autodiscover.v2_query}, errors=autodiscover.v2_errors, any_case=True,
)
V2_PATH = Route(
    "autodiscover_v2_path", "/autodiscover/autodiscover.json/v1.0/{address}", "autodiscover_v2",
    {"GET": autodiscover.v2_path}, errors=autodiscover.v2_errors, any_case=True,
)
# The settings page for people (Flask, templates, Babel): autoconfig/web/page.py.
PAGE = Route("page", "/", "page")
APPLE_PAGE = Route("apple_page", "/apple", "page")
STYLESHEET = Route("stylesheet", "/apple/style.css", "page")
# A person's browser that follows a profile link to an error sees it on the page.
PROFILE = Route("apple_profile", "/apple/profile.mobileconfig", "apple_profile",
                {"GET": apple.profile}, errors=apple.errors_shown_on(APPLE_PAGE.path))
PACC = Route("pacc", PACC_PATH, "pacc",  # the draft's path, in render/pacc.py
             {"GET": pacc.user_agent_configuration})
CALDAV = Route("caldav", "/.well-known/caldav", "wellknown",
               dict.fromkeys(wellknown.METHODS, wellknown.caldav))
CARDDAV = Route("carddav", "/.well-known/carddav", "wellknown",
                dict.fromkeys(wellknown.METHODS, wellknown.carddav))
LOGO = Route("brand_logo", "/brand/{domain}/logo", "brand", {"GET": brand.logo})
THEME = Route("brand_theme", "/brand/{domain}/theme.css", "brand", {"GET": brand.theme})
HEALTHZ = Route("healthz", "/healthz", "health", {"GET": operators.healthz})
READYZ = Route("readyz", "/readyz", "health", {"GET": operators.readyz})
METRICS = Route("metrics", "/metrics", "metrics", {"GET": operators.metrics})

ROUTES: tuple[Route, ...] = (
    THUNDERBIRD, THUNDERBIRD_WELL_KNOWN, POX, V2_QUERY, V2_PATH, PROFILE, PACC, CALDAV,
    CARDDAV, LOGO, THEME, HEALTHZ, READYZ, METRICS, PAGE, APPLE_PAGE, STYLESHEET,
)
PAGE_ROUTES = tuple(route for route in ROUTES if route.is_page)
