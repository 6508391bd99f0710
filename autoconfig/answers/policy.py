"""The HTTP policy every answer shares, applied by the front to every response.

Answers set only what is particular to them (a public ``Cache-Control`` for documents
that are the same for every user, a ``Content-Disposition``); the front adds what all
answers carry, the page's included: ``X-Content-Type-Options: nosniff`` (the bodies are
XML, JSON, profiles and text that must never be sniffed as HTML), ``Cache-Control:
no-store`` unless the answer chose otherwise (most answers name one user's address),
and for HTML a Content Security Policy under which the page loads nothing from
elsewhere, runs no script and may not be framed.
"""

from __future__ import annotations

from functools import cache

Headers = list[tuple[str, str]]

DEFAULT_CACHE_CONTROL = "no-store"
PERSONAL_CACHE_CONTROL = "private, no-store"  # one user's directory answer

COMMON_HEADERS: Headers = [("X-Content-Type-Options", "nosniff")]

HTML_HEADERS: Headers = [
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " base-uri 'none'; frame-ancestors 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),  # the page's URL holds the address
]


@cache
def shared_cache(max_age: int) -> tuple[str, str]:
    """``Cache-Control`` of a document that is the same for every user of a domain."""
    return ("Cache-Control", f"public, max-age={max_age}")


def with_policy(headers: Headers) -> Headers:
    """``headers`` with the shared ones added; a header the answer set itself is kept."""
    present = set()
    html = False
    for name, value in headers:
        lowered = name.lower()
        present.add(lowered)
        if lowered == "content-type" and value.startswith("text/html"):
            html = True
    if "x-content-type-options" not in present:
        headers.extend(COMMON_HEADERS)
    if "cache-control" not in present:
        headers.append(("Cache-Control", DEFAULT_CACHE_CONTROL))
    if html:
        headers.extend(item for item in HTML_HEADERS if item[0].lower() not in present)
    return headers
