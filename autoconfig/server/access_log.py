"""Log lines you can trust: gunicorn's access and error logs and our own, never an address.

Clients put addresses in query strings (``?emailaddress=``, ``?Email=``), in
request bodies (POX), in the Referer of the settings page and, for Autodiscover
v2, in the path itself (``/autodiscover/autodiscover.json/v1.0/<address>``).
This logger keeps the method, path and status an operator needs and drops the
rest: no query string, no address in the path, no header or environ value but a
few harmless ones (never Authorization: Thunderbird sends ``email:password`` there).

Whatever is still written passes one formatter (``SafeFormatter``/``JsonFormatter``):
gunicorn's own warnings quote the raw request line ("Invalid request line '...'"), and a
decoded path may hold a newline that would forge a second line. Every line is masked
(``mask_addresses``) and has its control characters escaped (``escape_controls``), so one
record is one line; the JSON format (``AUTOCONFIG_LOG_FORMAT=json``) leaves the escaping
to JSON.
"""

from __future__ import annotations

import json
import logging
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


# An address anywhere in a logged value: raw, or percent-encoded once or twice as a raw
# request line carries it (``?emailaddress=bob%40example.com``). The local part stops at
# what separates it from the rest of a URI, a header or a sentence, and starts only after
# one: tried at every character, a line of 4 000 without a separator took 0.2 s.
_SEPARATORS = r"\s@<>()\[\]\\,;:/?&=#\"'`"
_ADDRESS = re.compile(
    rf"(?<![^{_SEPARATORS}])[^{_SEPARATORS}]+(?:@|%40|%2540)"
    r"(?:[a-z0-9._-]|%[0-9a-f]{2}|[^\x00-\x7f])+",
    re.IGNORECASE,
)
# C0 controls, DEL and C1 controls: a newline or CR forges a line, ESC drives a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def mask_path(path: str) -> str:
    """``path`` with any email address it carries replaced by a fixed marker."""
    return mask_addresses(_ADDRESS_IN_PATH.sub(lambda match: match.group(1) + MASK, path))


def mask_addresses(text: str) -> str:
    """``text`` with every email address in it, raw or percent-encoded, replaced by MASK."""
    return _ADDRESS.sub(MASK, text) if "@" in text or "%" in text else text


def escape_controls(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``), so
    it stays on one line and cannot drive the terminal that shows it."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\x{ord(char):02x}"


def safe_text(text: str) -> str:
    """What any log line may hold: no address, no control character."""
    return escape_controls(mask_addresses(text))


class SafeFormatter(logging.Formatter):
    """A text formatter whose whole line (message, arguments, traceback) is ``safe_text``:
    one record, one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The line the wrapped format gives, masked and escaped."""
        return safe_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line for log shippers; JSON escapes the controls, addresses are
    masked in every value. Access lines carry their fields (``record.fields``)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({key: _json_value(value) for key, value in fields.items()})
        else:
            line["message"] = mask_addresses(record.getMessage())
        if record.exc_info:
            line["exception"] = mask_addresses(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=True)


def _json_value(value: Any) -> Any:
    """A field as JSON writes it: numbers stay numbers, the rest masked text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_addresses(str(value))


def formatter_for(log_format: str, fmt: str | None = None, datefmt: str | None = None) -> (
    logging.Formatter
):
    """The formatter of ``AUTOCONFIG_LOG_FORMAT`` ("text" or "json")."""
    return JsonFormatter() if log_format == "json" else SafeFormatter(fmt, datefmt)


class AddressFreeLogger(Logger):  # type: ignore[misc] # gunicorn ships no type hints
    """gunicorn's logger with the address-bearing atoms masked or removed, and every line
    it writes (access, error, gunicorn's own warnings) through ``formatter_for``."""

    log_format = "text"

    def setup(self, cfg: Any) -> None:
        """gunicorn's handlers, with our formatter on each (a reload runs this again)."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    inner = handler.formatter
                    handler.setFormatter(formatter_for(
                        self.log_format, inner._fmt if inner else None,
                        inner.datefmt if inner else None,
                    ))

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
        of a Thunderbird request's cost. The JSON format writes a fixed set of fields
        (``_JSON_FIELDS``), so a shipper's parsing does not depend on the text format.
        """
        if not self.access_log_enabled:
            return
        try:
            if self.log_format == "json":
                fields = {
                    key: _atom(name, resp, req, environ, request_time)
                    for key, name in _JSON_FIELDS.items()
                }
                self.access_log.info("access", extra={"fields": fields})
                return
            names = _names_in(self.cfg.access_log_format)
            values = {name: _atom(name, resp, req, environ, request_time) for name in names}
            self.access_log.info(self.cfg.access_log_format, self.atoms_wrapper_class(values))
        except Exception:
            self.error(traceback.format_exc())


class JsonLogger(AddressFreeLogger):
    """``AddressFreeLogger`` writing one JSON object per line (``AUTOCONFIG_LOG_FORMAT=json``)."""

    log_format = "json"


# AUTOCONFIG_LOG_FORMAT -> gunicorn's logger_class.
LOGGER_CLASSES = {
    "text": f"{__name__}.AddressFreeLogger",
    "json": f"{__name__}.JsonLogger",
}
# An access line's JSON fields, whatever the text format names: key -> gunicorn's atom.
_JSON_FIELDS = {
    "remote": "h", "method": "m", "path": "U", "protocol": "H", "status": "s", "bytes": "B",
    "ms": "M",
}


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
