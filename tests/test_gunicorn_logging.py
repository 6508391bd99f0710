"""The access log never writes an email address (autoconfig/gunicorn_logging.py)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from autoconfig.gunicorn_logging import AddressFreeLogger, mask_path


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
