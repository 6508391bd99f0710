"""The access log never writes an email address (autoconfig/server/access_log.py)."""

from __future__ import annotations

import datetime
import json
import logging
import sys
import time
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from autoconfig.server.access_log import (
    AddressFreeLogger,
    JsonFormatter,
    JsonLogger,
    SafeFormatter,
    escape_controls,
    mask_addresses,
    mask_path,
    safe_text,
)


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/autodiscover/autodiscover.json/v1.0/alice@example.com",
         "/autodiscover/autodiscover.json/v1.0/<address>"),
        ("/Autodiscover/Autodiscover.json/v1.0/Alice@Example.com",
         "/Autodiscover/Autodiscover.json/v1.0/<address>"),
        ("/autodiscover/autodiscover.json/v1.0/a/b@c",
         "/autodiscover/autodiscover.json/v1.0/<address>"),
        ("/autodiscover/autodiscover.json", "/autodiscover/autodiscover.json"),
        ("/mail/config-v1.1.xml", "/mail/config-v1.1.xml"),
    ],
)
def test_mask_path(path: str, logged: str) -> None:
    assert mask_path(path) == logged


def test_atoms_hold_no_address_no_query_and_no_credentials() -> None:
    logger = AddressFreeLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/apple?emailaddress=bob@example.com",
        "PATH_INFO": "/autodiscover/autodiscover.json/v1.0/bob@example.com",
        "QUERY_STRING": "Email=bob@example.com", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1", "HTTP_REFERER": "https://x/?emailaddress=bob@example.com",
    }
    request = SimpleNamespace(headers=[
        ("AUTHORIZATION", "Basic Ym9iQGV4YW1wbGUuY29tOnNlY3JldA=="),
        ("REFERER", "https://x/?emailaddress=bob@example.com"),
        ("USER-AGENT", "Outlook"),
    ])
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    atoms = logger.atoms(response, request, environ, datetime.timedelta(milliseconds=3))
    written = repr(atoms)
    assert "bob" not in written
    assert "Ym9i" not in written
    assert atoms["h"] == "192.0.2.1"
    assert atoms["r"] == "GET /autodiscover/autodiscover.json/v1.0/<address> HTTP/1.1"
    assert atoms["{user-agent}i"] == "Outlook"


def test_the_access_line_names_only_what_atoms_allow() -> None:
    """``access`` computes just the atoms its format names; the line is the one gunicorn's
    own atoms give, for every atom it documents, with what may carry an address masked."""
    every = (
        '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(m)s %(U)s %(q)s %(H)s %(b)s %(B)s %(f)s "%(a)s"'
        " %(T)s %(D)s %(M)s %(L)s %(p)s %({user-agent}i)s %({User-Agent}i)s"
        " %({authorization}i)s %({content-type}o)s %({set-cookie}o)s %({query_string}e)s"
    )
    lines: list[str] = []
    config = Config()
    config.set("access_log_format", every)
    config.set("accesslog", "-")
    logger = AddressFreeLogger(config)
    logger.access_log.handlers[:] = [_Collect(lines)]
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/x?emailaddress=bob@example.com",
        "PATH_INFO": "/autodiscover/autodiscover.json/v1.0/bob@example.com",
        "QUERY_STRING": "Email=bob@example.com", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1", "HTTP_REFERER": "https://x/?emailaddress=bob@example.com",
        "HTTP_USER_AGENT": 'Outlook "16"',
        "HTTP_AUTHORIZATION": "Basic Ym9iQGV4YW1wbGUuY29tOnNlY3JldA==",
    }
    request = SimpleNamespace(headers=[
        ("AUTHORIZATION", "Basic Ym9iQGV4YW1wbGUuY29tOnNlY3JldA=="),
        ("USER-AGENT", 'Outlook "16"'),
    ])
    response = SimpleNamespace(
        status="200 OK", sent=10,
        headers=[("Content-Type", "text/xml"), ("Set-Cookie", "s=bob@example.com")],
    )
    took = datetime.timedelta(seconds=1, microseconds=2345)
    logger.access(response, request, environ, took)
    gunicorns = Logger.atoms(logger, response, request, environ, took)
    masked = {
        "r": "GET /autodiscover/autodiscover.json/v1.0/<address> HTTP/1.1",
        "U": "/autodiscover/autodiscover.json/v1.0/<address>", "q": "-", "f": "-", "u": "-",
    }
    allowed = {
        key: value for key, value in gunicorns.items()
        if not key.startswith("{") or key in ("{user-agent}i", "{content-type}o")
    }
    full = every % logger.atoms_wrapper_class(allowed | masked)
    assert lines == [full]
    assert "bob" not in lines[0]
    assert "Ym9i" not in lines[0]
    assert lines[0].startswith(
        '192.0.2.1 - - "GET /autodiscover/autodiscover.json/v1.0/<address> HTTP/1.1" 200 GET'
    )


class _Collect(logging.Handler):
    def __init__(self, lines: list[str], formatter: logging.Formatter | None = None) -> None:
        super().__init__()
        self.lines = lines
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) if self.formatter else record.getMessage())


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ('/x\n127.0.0.1 [x] "GET /admin" 200', '/x\\n127.0.0.1 [x] "GET /admin" 200'),
        ("a\rb\x00c\x1b[31md\x7f\x85\u2028", "a\\rb\\x00c\\x1b[31md\\x7f\\x85\u2028"),
        ("tab\there", "tab\\there"),
        ("/mail/config-v1.1.xml", "/mail/config-v1.1.xml"),
    ],
)
def test_escape_controls(value: str, logged: str) -> None:
    assert escape_controls(value) == logged


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ("Invalid Request Line 'GET /?emailaddress=bob@example.com HTTP/1.1'",
         "Invalid Request Line 'GET /?emailaddress=<address> HTTP/1.1'"),
        ("GET /x?Email=bob%40example.com&y=1", "GET /x?Email=<address>&y=1"),
        ("GET /x?Email=bob%2540ex%C3%A4mple.com", "GET /x?Email=<address>"),
        ("<Bob.Smith+tag@Example.ORG>", "<<address>>"),
        ("/autodiscover/autodiscover.json/v1.0/a/b@c",
         "/autodiscover/autodiscover.json/v1.0/<address>"),
        ("no address: /mail/config-v1.1.xml 100%", "no address: /mail/config-v1.1.xml 100%"),
    ],
)
def test_mask_addresses(value: str, logged: str) -> None:
    assert mask_path(value) == logged if value.startswith("/") else mask_addresses(value) == logged


def test_safe_text_masks_before_escaping() -> None:
    assert safe_text("x\nbob@example.com\x1b") == "x\\n<address>\\x1b"


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_the_text_formatter_writes_one_line_without_an_address() -> None:
    line = SafeFormatter("%(levelname)s %(message)s").format(
        _record("Invalid request from ip=%s: %s", "192.0.2.1", "GET /?e=bob@example.com\nX: y")
    )
    assert line == "WARNING Invalid request from ip=192.0.2.1: GET /?e=<address>\\nX: y"
    try:
        raise ValueError("bob@example.com\nforged")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = SafeFormatter("%(message)s").format(record)
    assert "\n" not in line
    assert "bob" not in line
    assert "ValueError: <address>\\nforged" in line


def test_the_json_formatter_writes_one_object_per_line() -> None:
    formatter = JsonFormatter()
    line = formatter.format(_record("Invalid Request Line '%s'", "GET /?e=bob@example.com\n\x1b"))
    assert "\n" not in line
    assert "\x1b" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "warning"
    assert parsed["logger"] == "gunicorn.error"
    assert parsed["message"] == "Invalid Request Line 'GET /?e=<address>\n\x1b'"
    access = json.loads(formatter.format(
        _record("access", fields={"path": "/a\n/bob@example.com", "status": "200", "ms": 3})
    ))
    assert access["path"] == "/a\n/<address>"
    assert access["ms"] == 3
    assert "message" not in access


def test_the_json_logger_writes_access_fields() -> None:
    lines: list[str] = []
    config = Config()
    config.set("accesslog", "-")
    logger = JsonLogger(config)
    ours = [h for h in logger.access_log.handlers if getattr(h, "_gunicorn", False)]
    assert ours
    assert all(isinstance(h.formatter, JsonFormatter) for h in ours)
    logger.access_log.handlers[:] = [_Collect(lines, JsonFormatter())]
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/x\n/autodiscover/autodiscover.json/v1.0/bob@x",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.1",
    }
    response = SimpleNamespace(status="404 Not Found", headers=[], sent=9)
    logger.access(response, SimpleNamespace(headers=[]), environ,
                  datetime.timedelta(milliseconds=3))
    (line,) = lines
    parsed = json.loads(line)
    assert parsed["remote"] == "192.0.2.1"
    assert parsed["method"] == "GET"
    assert parsed["path"] == "/x\n/autodiscover/autodiscover.json/v1.0/<address>"
    assert parsed["status"] == "404"
    assert parsed["ms"] == 3


def test_the_text_logger_puts_the_safe_formatter_on_gunicorns_handlers() -> None:
    config = Config()
    config.set("accesslog", "-")
    logger = AddressFreeLogger(config)
    for log in (logger.error_log, logger.access_log):
        formatters = [h.formatter for h in log.handlers if getattr(h, "_gunicorn", False)]
        assert formatters
        assert all(isinstance(f, SafeFormatter) for f in formatters)


@pytest.mark.parametrize("line", ["%" + "a" * 8000, "a%" * 4000, "=a%" * 2700, "x@" * 4000])
def test_masking_a_long_line_takes_linear_time(line: str) -> None:
    """A request line of gunicorn's largest size cannot make the mask backtrack for long."""
    started = time.perf_counter()
    safe_text(line)
    assert time.perf_counter() - started < 0.05


def test_a_reload_keeps_the_safe_formatter_on_gunicorns_handlers() -> None:
    """gunicorn runs ``setup`` again on HUP: the handlers it makes get the formatter again."""
    config = Config()
    config.set("accesslog", "-")
    logger = AddressFreeLogger(config)
    logger.setup(config)
    ours = [h for h in logger.error_log.handlers if getattr(h, "_gunicorn", False)]
    assert len(ours) == 1
    line = ours[0].format(_record("Invalid Request Line '%s'", "bob@example.com\nX"))
    assert line.endswith("Invalid Request Line '<address>\\nX'")
