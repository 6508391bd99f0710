"""The HTTP policy every answer shares, applied in one ``after_request`` hook.

Views set only what is particular to them (a public ``Cache-Control`` for documents
that are the same for every user, a ``Content-Disposition``); this hook adds what
all answers carry: ``X-Content-Type-Options: nosniff`` (the bodies are XML, JSON,
profiles and text that must never be sniffed as HTML), ``Cache-Control: no-store``
unless the view chose otherwise (most answers name one user's address), and for
HTML a Content Security Policy under which the page loads nothing from elsewhere,
runs no script and may not be framed.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.datastructures import Headers

DEFAULT_CACHE_CONTROL = "no-store"

COMMON_HEADERS = {"X-Content-Type-Options": "nosniff"}

HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the page's URL holds the address
}


def apply_policy(response: Response) -> Response:
    """Add the shared headers; a header the view set itself is kept.

    The names already set are read in one pass and the content type is parsed only
    when it may be HTML: werkzeug's ``setdefault`` scans every header once per call,
    and the hook runs for every answer."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    _add_missing(headers, present, COMMON_HEADERS)
    _add_missing(headers, present, {"Cache-Control": DEFAULT_CACHE_CONTROL})
    content_type = headers.get("Content-Type", "")
    if "html" in content_type.lower() and response.mimetype == "text/html":
        _add_missing(headers, present, HTML_HEADERS)
    return response


def _add_missing(headers: Headers, present: set[str], wanted: dict[str, str]) -> None:
    for name, value in wanted.items():
        if name.lower() not in present:
            headers.add(name, value)


def register_policy(app: Flask) -> None:
    """Install the hook (error answers pass through it too)."""
    app.after_request(apply_policy)
