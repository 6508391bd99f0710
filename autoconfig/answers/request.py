"""What an answer function is given and what it gives back: no web framework in either.

The front (``answers/front.py``) turns a WSGI request into an ``Ask`` (method, path,
query, the few headers answers read, the body where the route takes one) and an
``Answer`` back into a WSGI response. Answers read nothing else of a request: no
cookie, no ``Authorization`` (Thunderbird sends the user's password there), no other
header.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from autoconfig.errors import BadRequestError

# More query fields than any client sends (the page's form has four): refused, not parsed.
MAX_QUERY_FIELDS = 32


class Query(Mapping[str, str]):
    """A parsed query string: the first value of each key (as werkzeug's ``args``).

    Split by hand rather than with ``urllib.parse.parse_qsl``: the same pairs (``&``
    between fields, ``+`` and percent-escapes decoded as UTF-8, invalid bytes replaced),
    in a quarter of the time, for the one or two fields clients send.
    """

    __slots__ = ("_first", "_pairs")

    def __init__(self, raw: str = "") -> None:
        parts = raw.split("&") if raw else []
        if len(parts) > MAX_QUERY_FIELDS:
            raise BadRequestError("too many query parameters")
        pairs = []
        first: dict[str, str] = {}
        for part in parts:
            if not part:
                continue
            key, _, value = part.partition("=")
            key, value = _unquote(key), _unquote(value)
            pairs.append((key, value))
            first.setdefault(key, value)
        self._pairs = pairs
        self._first = first

    def get_any_case(self, key: str) -> str:
        """The first value of ``key`` in any letter case (Outlook's ``Email``, ``email``)."""
        wanted = key.lower()
        return next((value for name, value in self._pairs if name.lower() == wanted), "")

    def __getitem__(self, key: str) -> str:
        return self._first[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)


@dataclass(slots=True)
class Ask:
    """One request as an answer function sees it (not frozen: a frozen dataclass costs
    a microsecond more to build, on every request)."""

    method: str
    path: str
    query: Query = field(default_factory=Query)
    host: str = ""
    content_type: str = ""  # as sent; POX checks it
    accept: str = ""  # whether a browser asks (an error format may answer it a page)
    accept_language: str = ""  # the profile's language
    body: bytes = b""  # read by the front for routes that take a body, within its cap
    params: dict[str, str] = field(default_factory=dict)  # from the path, e.g. {address}


@dataclass(slots=True)
class Answer:
    """Status, headers and body; the front adds what every answer carries.

    ``etag``: the answer is a shared document with this strong validator; the front
    writes the ``ETag`` header and answers ``If-None-Match`` with 304.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    etag: str | None = None


def _unquote(text: str) -> str:
    """``+`` as a space and percent-escapes decoded, only where there are any (an
    address's ``%40``, the one escape most clients send, without the general decoder)."""
    if "%" not in text and "+" not in text:
        return text
    if "+" not in text and text.count("%") == text.count("%40"):
        return text.replace("%40", "@")
    return unquote_plus(text, errors="replace")
