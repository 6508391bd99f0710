"""The access log never writes an email address (autoconfig/server/access_log.py)."""

from __future__ import annotations

import datetime
import logging
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from autoconfig.server.access_log import AddressFreeLogger, mask_path


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
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
