"""The front: routing, methods, conditional requests, the shared headers and the errors.

In-process through werkzeug's test client (a real WSGI call of the real front); the
end-to-end tests check the same through gunicorn and nginx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import pytest
from lxml import etree
from werkzeug.test import Client

from autoconfig.answers import autodiscover, routes
from autoconfig.answers.front import Front
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.routes import Route
from autoconfig.answers.services import Services
from autoconfig.pox import MAX_BODY_BYTES
from autoconfig.server.app import Application

THUNDERBIRD = "/mail/config-v1.1.xml?emailaddress=alice%40example.com"
POX_NS = {"e": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"}


def pox_error_code(body: bytes) -> list[str]:
    return etree.fromstring(body).xpath("//e:Error/e:ErrorCode/text()", namespaces=POX_NS)


def test_every_route_is_reachable_at_its_declared_path(app: Application) -> None:
    for route in routes.ROUTES:
        path = route.url(domain="example.com", address="alice@example.com")
        matched = app.front.match(path)
        assert matched is not None and matched[0] is route, route.name


def test_an_unknown_path_is_a_plain_404(client: Client) -> None:
    reply = client.get("/wp-login.php")
    assert reply.status_code == 404
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-store"


def test_a_method_a_route_does_not_answer_is_405_with_allow_in_its_format(
    client: Client,
) -> None:
    text = client.post("/mail/config-v1.1.xml")
    assert text.status_code == 405
    assert text.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    pox = client.put("/Autodiscover/Autodiscover.xml", data=b"<x/>")
    assert pox.status_code == 405
    assert pox.headers["Allow"] == "POST, GET, HEAD, OPTIONS"
    assert pox_error_code(pox.data) == ["600"]
    options = client.options("/mail/config-v1.1.xml")
    assert options.status_code == 200
    assert options.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_head_gives_the_get_headers_without_a_body(client: Client) -> None:
    get = client.get(THUNDERBIRD)
    head = client.head(THUNDERBIRD)
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == str(len(get.data))
    assert head.headers["ETag"] == get.headers["ETag"]


def test_a_known_etag_is_answered_304_without_a_body(client: Client) -> None:
    etag = client.get(THUNDERBIRD).headers["ETag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        reply = client.get(THUNDERBIRD, headers={"If-None-Match": sent})
        assert reply.status_code == 304, sent
        assert reply.data == b""
        assert reply.headers["ETag"] == etag
        assert "Content-Type" not in reply.headers
    assert client.get(THUNDERBIRD, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_body_over_the_cap_is_refused_in_pox_before_it_is_read(client: Client) -> None:
    reply = client.post("/autodiscover/autodiscover.xml", data=b"x" * (MAX_BODY_BYTES + 1),
                        headers={"Content-Type": "text/xml"})
    assert reply.status_code == 413
    assert pox_error_code(reply.data) == ["600"]


def test_the_page_gets_the_shared_and_html_headers(client: Client) -> None:
    reply = client.get("/")
    assert reply.status_code == 200
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
    assert "Content-Security-Policy" not in client.get(THUNDERBIRD).headers


def _failing(ask: Ask, services: Services) -> Answer:
    raise RuntimeError("a bug in an answer")


def _page_failing(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    raise RuntimeError("a bug in the page")


@pytest.mark.parametrize(
    ("route", "expect"),
    [
        (Route("bug", "/bug", "other", {"GET": _failing}), "text"),
        (Route("bug", "/bug", "autodiscover_pox", {"GET": _failing},
               errors=autodiscover.pox_errors), "pox"),
        (Route("bug", "/bug", "autodiscover_v2", {"GET": _failing},
               errors=autodiscover.v2_errors), "json"),
        (Route("bug", "/bug", "page"), "text"),
    ],
)
def test_a_bug_is_logged_once_and_answered_500_in_the_routes_format(
    app: Application, route: Route, expect: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(Front(app.services, _page_failing, routes=[route]))
    with caplog.at_level(logging.ERROR, logger="autoconfig"):
        reply = client.get("/bug")
    assert reply.status_code == 500
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    if expect == "text":
        assert reply.data == b"internal server error\n"
    elif expect == "pox":
        assert pox_error_code(reply.data) == ["603"]
    else:
        assert json.loads(reply.data)["ErrorCode"] == "InternalError"


def test_every_answer_is_counted_under_its_routes_family(app: Application) -> None:
    client = Client(app)
    client.get(THUNDERBIRD)
    client.get("/nothing-here")
    client.get("/")
    text = client.get("/metrics").text
    assert 'autoconfig_requests_total{family="thunderbird",status="2xx"} 1.0' in text
    assert 'autoconfig_requests_total{family="other",status="4xx"} 1.0' in text
    assert 'autoconfig_requests_total{family="page",status="2xx"} 1.0' in text


def test_a_browser_following_a_bad_profile_link_gets_the_page_in_its_language(
    client: Client,
) -> None:
    """The profile route's error format sends a browser to the page with the same query;
    the page answers with the error in the visitor's language, the field marked."""
    query = "emailaddress=alice%40unknown.example&protocol=imap&lang=de"
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    reply = client.get(f"/apple/profile.mobileconfig?{query}", headers=browser)
    assert reply.status_code == 303
    assert reply.headers["Location"] == f"/apple?{query}"
    assert reply.headers["Cache-Control"] == "no-store"
    page = client.get(reply.headers["Location"], headers=browser)
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert '<html lang="de">' in text and "Keine Einstellungen gefunden" in text
    assert 'aria-invalid="true"' in text
    plain = client.get(f"/apple/profile.mobileconfig?{query}")
    assert (plain.status_code, plain.headers["Content-Type"]) == (
        404, "text/plain; charset=utf-8"
    )
