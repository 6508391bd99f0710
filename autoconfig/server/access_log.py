"""gunicorn access log that never writes an email address.

Clients put addresses in query strings (``?emailaddress=``, ``?Email=``), in
request bodies (POX), in the Referer of the settings page and, for Autodiscover
v2, in the path itself (``/autodiscover/autodiscover.json/v1.0/<address>``).
This logger keeps the method, path and status an operator needs and drops the
rest: no query string, no address in the path, no header or environ value but a
few harmless ones (never Authorization: Thunderbird sends ``email:password`` there).
"""

from __future__ import annotations

import os
import re
import time
import traceback
from typing import Any

from gunicorn.glogging import Logger

from autoconfig.answers.routes import V2_PATH

# Autodiscover v2 carries the address as the rest of the path (the route table's
# V2_PATH, docs/autodiscover.md#autodiscover-v2-json); paths are case-insensitive there
# (docs/http.md#routing), so is the mask.
_V2_PREFIX = V2_PATH.path.partition("{address}")[0]
_ADDRESS_IN_PATH = re.compile(f"^({re.escape(_V2_PREFIX)}).+", re.IGNORECASE)
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
        """Every atom gunicorn offers, safe to write (``_atom``): no query, no Referer, no
        address in the path, no header or environ value but the harmless ones."""
        names = super().atoms(resp, req, environ, request_time)
        return {name: _atom(name, resp, req, environ, request_time) for name in names}

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """One access line, computing only the atoms the format names.

        gunicorn's ``atoms`` builds some fifty (every request and response header, every
        environ key) for each request; with the logging call around it that was a fifth
        of a Thunderbird request's cost.
        """
        if not self.access_log_enabled:
            return
        names = _names_in(self.cfg.access_log_format)
        values = {name: _atom(name, resp, req, environ, request_time) for name in names}
        try:
            self.access_log.info(self.cfg.access_log_format, self.atoms_wrapper_class(values))
        except Exception:
            self.error(traceback.format_exc())


_NAME = re.compile(r"%\(([^)]+)\)")
_names_cache: dict[str, tuple[str, ...]] = {}


def _names_in(log_format: str) -> tuple[str, ...]:
    """The atom names a log format uses (``%(h)s`` -> ``h``), found once per format."""
    names = _names_cache.get(log_format)
    if names is None:
        names = _names_cache[log_format] = tuple(dict.fromkeys(_NAME.findall(log_format)))
    return names


def _atom(name: str, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
    """One atom's value, safe to write: "-" for what may carry an address.

    %({name}i)s request headers, %({name}o)s response headers, %({name}e)s environ: any
    of them may carry an address (Referer, QUERY_STRING, Location, ...), so only the
    few in ``_SAFE_ATOMS`` are written.
    """
    simple = _SIMPLE.get(name)
    if simple is not None:
        return simple(resp, environ, request_time)
    if name.lower() not in _SAFE_ATOMS:  # headers and environ values: only the harmless
        return "-"
    header = name.lower()[1:-2]
    headers = resp.headers if name.lower().endswith("o") else req.headers
    for key, value in headers:
        if key.lower() == header:
            return value
    return "-"


def _path(environ: dict[str, Any]) -> str:
    return mask_path(str(environ.get("PATH_INFO") or "/"))


def _status(resp: Any) -> Any:
    status = resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


_SIMPLE: dict[str, Any] = {
    "h": lambda resp, environ, took: environ.get("REMOTE_ADDR", "-"),
    "t": lambda resp, environ, took: time.strftime("[%d/%b/%Y:%H:%M:%S %z]"),  # as gunicorn
    "r": lambda resp, environ, took: (
        f"{environ.get('REQUEST_METHOD', '-')} {_path(environ)}"
        f" {environ.get('SERVER_PROTOCOL', '-')}"
    ),
    "s": lambda resp, environ, took: _status(resp),
    "m": lambda resp, environ, took: environ.get("REQUEST_METHOD"),
    "U": lambda resp, environ, took: _path(environ),
    "H": lambda resp, environ, took: environ.get("SERVER_PROTOCOL"),
    "b": lambda resp, environ, took: str(resp.sent) if getattr(resp, "sent", None) else "-",
    "B": lambda resp, environ, took: getattr(resp, "sent", None),
    "a": lambda resp, environ, took: environ.get("HTTP_USER_AGENT", "-"),
    "T": lambda resp, environ, took: took.seconds,
    "D": lambda resp, environ, took: took.seconds * 1_000_000 + took.microseconds,
    "M": lambda resp, environ, took: took.seconds * 1000 + took.microseconds // 1000,
    "L": lambda resp, environ, took: f"{took.seconds}.{took.microseconds:06d}",
    "p": lambda resp, environ, took: f"<{os.getpid()}>",
    # Never written: the query, the Referer, the user of Basic auth (an address).
    "q": lambda resp, environ, took: "-",
    "f": lambda resp, environ, took: "-",
    "u": lambda resp, environ, took: "-",
    "l": lambda resp, environ, took: "-",
}
