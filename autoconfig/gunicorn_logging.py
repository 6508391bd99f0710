"""gunicorn access log that never writes an email address.

Clients put addresses in query strings (``?emailaddress=``, ``?Email=``), in
request bodies (POX), in the Referer of the settings page and, for Autodiscover
v2, in the path itself (``/autodiscover/autodiscover.json/v1.0/<address>``).
This logger keeps the method, path and status an operator needs and drops the
rest: no query string, no address in the path, no header or environ value but a
few harmless ones (never Authorization: Thunderbird sends ``email:password`` there).
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# Autodiscover v2 carries the address as the last path segment
# (docs/autodiscover.md#autodiscover-v2-json); paths are case-insensitive there
# (docs/http.md#routing), so is the mask.
_ADDRESS_IN_PATH = re.compile(r"^(/autodiscover/autodiscover\.json/v1\.0/).+", re.IGNORECASE)
MASK = "<address>"
# Header atoms a log format may still name, e.g. %({user-agent}i)s; all others are dropped.
_SAFE_ATOMS = frozenset({"{host}i", "{user-agent}i", "{x-request-id}i", "{content-type}o"})


def mask_path(path: str) -> str:
    """``path`` with any email address it carries replaced by a fixed marker."""
    return _ADDRESS_IN_PATH.sub(lambda match: match.group(1) + MASK, path)


class AddressFreeLogger(Logger):  # type: ignore[misc] # gunicorn ships no type hints
    """gunicorn's logger with the address-bearing atoms masked or removed."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        """The format atoms, safe to write: no query, no body, no masked path."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        path = mask_path(str(environ.get("PATH_INFO") or "/"))
        atoms["U"] = path
        atoms["q"] = "-"
        atoms["r"] = f"{environ.get('REQUEST_METHOD', '-')} {path} {atoms.get('H', '-')}"
        atoms["f"] = "-"  # the Referer may be a page URL with ?emailaddress=
        # %({name}i)s request headers, %({name}o)s response headers, %({name}e)s environ:
        # any of them may carry an address (Referer, QUERY_STRING, Location, ...).
        for key in [k for k in atoms if k.startswith("{") and k not in _SAFE_ATOMS]:
            del atoms[key]
        return atoms
