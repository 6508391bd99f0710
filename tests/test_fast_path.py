"""The fast path (autoconfig/web/fast_path.py) answers as the Flask views do, or not at all.

Each request goes once through the app as served (fast path in front) and once to the
Flask views alone; status, headers and body must be the same. The views are counted,
so a request the fast path should answer itself cannot pass by falling through, and
one it must leave to the views (errors, per-user answers, other shapes) cannot pass
by being answered here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client, TestResponse

from autoconfig import create_app
from autoconfig.answers.metrics import Metrics
from autoconfig.settings import Settings
from autoconfig.web.fast_path import FastPath
from autoconfig.web.metrics import METRICS_KEY
from tests.support.paths import DOMAINS
from tests.support.pox_requests import autodiscover_request as pox_body

THUNDERBIRD = "/mail/config-v1.1.xml"
POX = "/autodiscover/autodiscover.xml"
PROFILE = "/apple/profile.mobileconfig"


XML = {"Content-Type": "text/xml"}

# (method, path, headers, body): answered by the fast path itself.
ANSWERED_HERE: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("GET", f"{THUNDERBIRD}?emailaddress=alice@example.com", {}, None),
    ("GET", f"{THUNDERBIRD}?emailaddress=alice%40example.com", {}, None),
    ("GET", f"{THUNDERBIRD}?emailaddress=Alice.Smith@EXAMPLE.org", {}, None),
    ("GET", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a@example.com", {}, None),
    ("POST", POX, XML, pox_body("alice@example.com")),
    ("POST", POX, {"Content-Type": "text/xml; charset=utf-8"}, pox_body("bob@example.org")),
    ("POST", "/Autodiscover/Autodiscover.xml", XML, pox_body("alice@example.com")),
    ("POST", POX, {}, pox_body("alice@example.com")),  # no Content-Type at all
    ("GET", f"{PROFILE}?emailaddress=alice@example.com", {}, None),
    ("GET", f"{PROFILE}?emailaddress=alice%40example.com&protocol=pop3", {}, None),
    ("GET", f"{PROFILE}?emailaddress=a@example.net&protocol=IMAP&name=Alice%20Smith", {}, None),
    ("GET", f"{PROFILE}?emailaddress=a@b%C3%BCcher.example&lang=de", {}, None),
    ("GET", f"{PROFILE}?emailaddress=a@example.org", {"Accept-Language": "fr-CA,fr;q=0.9"},
     None),
    ("GET", f"{PROFILE}?emailaddress=a@example.org&lang=ja", {"Accept-Language": "de"}, None),
]

# Left to the views: the same answer must come back, from them.
LEFT_TO_THE_VIEWS: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("GET", f"{THUNDERBIRD}?emailaddress=a@nowhere.example", {}, None),  # unknown: 404
    ("GET", f"{THUNDERBIRD}?emailaddress=no-at-sign", {}, None),  # 400
    ("GET", f"{THUNDERBIRD}?emailaddress=a@@example.com", {}, None),
    ("GET", f"{THUNDERBIRD}?emailaddress=a%2Bb@example.com", {}, None),  # other escapes
    ("GET", f"{THUNDERBIRD}?emailaddress=a+b@example.com", {}, None),  # '+' is a space
    ("GET", f"{THUNDERBIRD}?emailaddress=a@b%C3%BCcher.example", {}, None),  # IDN
    ("GET", f"{THUNDERBIRD}?emailaddress=a@example.com&emailaddress=b@x.example", {}, None),
    ("GET", f"{THUNDERBIRD}?emailaddress=", {}, None),
    ("GET", THUNDERBIRD, {"Host": "autoconfig.example.com"}, None),  # by Host
    ("GET", f"{THUNDERBIRD}?emailaddress=a@example.com",
     {"If-None-Match": '"not-the-etag"'}, None),
    ("HEAD", f"{THUNDERBIRD}?emailaddress=a@example.com", {}, None),
    ("GET", "/mail/config-v1.1.xml/?emailaddress=a@example.com", {}, None),
    ("POST", POX, XML, pox_body("a@nowhere.example")),  # POX error 500 (HTTP 200)
    ("POST", POX, XML, pox_body("a@example.com", mobilesync=True)),
    ("POST", POX, XML, b"<Autodiscover"),  # malformed: 400
    ("POST", POX, XML, b'<!DOCTYPE x [<!ENTITY e "e">]>' + pox_body("a@example.com")),
    ("POST", POX, XML, b""),
    ("POST", POX, {"Content-Type": "application/x-www-form-urlencoded"},
     pox_body("a@example.com")),  # 415
    ("POST", POX, {"Content-Type": "text/xml; charset=iso-8859-1"}, pox_body("a@example.com")),
    ("POST", POX, XML, pox_body("a@example.com") + b" " * 70_000),  # over the limit: 413
    ("POST", "/AUTODISCOVER/AUTODISCOVER.XML", XML, pox_body("a@example.com")),
    ("GET", POX, {"Host": "autodiscover.example.com"}, None),
    ("PUT", POX, XML, pox_body("a@example.com")),
    ("GET", PROFILE, {}, None),  # no address: 400
    ("GET", f"{PROFILE}?emailaddress=a@example.com&password=x", {}, None),
    ("GET", f"{PROFILE}?emailaddress=a@nowhere.example", {}, None),  # 404
    ("GET", f"{PROFILE}?emailaddress=a@example.org&protocol=pop3", {}, None),  # not offered
    ("GET", f"{PROFILE}?emailaddress=a@example.com&protocol=activesync", {}, None),
    ("GET", f"{PROFILE}?emailaddress=a@example.com&protocol=smtp", {}, None),
    ("GET", f"{PROFILE}?emailaddress=a@example.com&name=" + "x" * 300, {}, None),
    ("GET", f"{PROFILE}?emailaddress=a%40", {}, None),
    ("HEAD", f"{PROFILE}?emailaddress=a@example.com", {}, None),
    ("POST", f"{PROFILE}?emailaddress=a@example.com", {}, None),
]


class CountingViews:
    """The Flask app's WSGI callable, counting the requests that reach it."""

    def __init__(self, views: Any) -> None:
        self.views = views
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        result: Iterable[bytes] = self.views(environ, start_response)
        return result


@pytest.fixture
def app() -> Flask:
    return create_app(Settings.from_env({"AUTOCONFIG_RELOAD_INTERVAL": "0"}).with_domains(DOMAINS))


def fast_path_of(app: Flask) -> FastPath:
    fast_path = app.wsgi_app
    assert isinstance(fast_path, FastPath)  # no trusted proxies configured: outermost
    return fast_path


def send(client: Client, method: str, path: str, headers: dict[str, str],
         body: bytes | None) -> TestResponse:
    return client.open(path, method=method, headers=headers, data=body)


def comparable(response: TestResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in any order, body; a POX error's time of day left out."""
    body = re.sub(rb'Time="[^"]*"', b'Time=""', response.get_data())
    return response.status_code, sorted(response.headers.items()), body


@pytest.mark.parametrize(("method", "path", "headers", "body"), ANSWERED_HERE)
def test_plain_requests_are_answered_here_exactly_as_the_views_answer(
    app: Flask, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    fast_path = fast_path_of(app)
    views = fast_path.views = CountingViews(fast_path.views)
    from_views = send(Client(views.views), method, path, headers, body)
    served = send(Client(fast_path), method, path, headers, body)
    assert views.calls == 0, "the fast path handed a plain request to the views"
    assert served.status_code == 200
    assert comparable(served) == comparable(from_views)


@pytest.mark.parametrize(("method", "path", "headers", "body"), LEFT_TO_THE_VIEWS)
def test_every_other_request_reaches_the_views_whole(
    app: Flask, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    fast_path = fast_path_of(app)
    # English has been asked for: no profile goes to the views for want of a translator.
    assert Client(fast_path.views).get(f"{PROFILE}?emailaddress=a@example.com").status_code == 200
    views = fast_path.views = CountingViews(fast_path.views)
    from_views = send(Client(views.views), method, path, headers, body)
    served = send(Client(fast_path), method, path, headers, body)
    assert views.calls == 1, "the fast path answered a request it must leave to the views"
    assert comparable(served) == comparable(from_views)


def test_a_profile_in_a_language_not_asked_for_before_is_made_by_the_views(app: Flask) -> None:
    """The translator of a language comes from Flask-Babel, once: the first profile in
    German is the views' work, the next ones are answered here, in German."""
    fast_path = fast_path_of(app)
    views = fast_path.views = CountingViews(fast_path.views)
    client = Client(fast_path)
    path = f"{PROFILE}?emailaddress=a@example.org"
    first = client.get(path, headers={"Accept-Language": "de-AT"})
    assert views.calls == 1
    second = client.get(path, headers={"Accept-Language": "de-AT"})
    assert views.calls == 1
    assert first.get_data() == second.get_data()
    english = client.get(path)
    assert views.calls == 2
    assert english.get_data() != second.get_data()


def test_an_etag_from_the_fast_path_gets_a_304_from_the_views(app: Flask) -> None:
    client = Client(app.wsgi_app)
    path = f"{THUNDERBIRD}?emailaddress=alice@example.com"
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert (first.status_code, again.status_code) == (200, 304)
    assert again.headers["ETag"] == first.headers["ETag"]


def test_answers_given_here_are_counted_in_the_metrics(app: Flask) -> None:
    client = Client(app.wsgi_app)
    for _ in range(3):
        assert client.get(f"{THUNDERBIRD}?emailaddress=a@example.com").status_code == 200
    response = client.post(POX, headers=XML, data=pox_body("a@example.com"))
    assert response.status_code == 200
    for _ in range(2):  # the first is the views' (the English translator), then here
        assert client.get(f"{PROFILE}?emailaddress=a@example.com").status_code == 200
    metrics: Metrics = app.extensions[METRICS_KEY]

    def answered(family: str) -> float | None:
        return metrics.registry.get_sample_value(
            "autoconfig_requests_total", {"family": family, "status": "2xx"}
        )

    assert answered("thunderbird") == 3
    assert answered("autodiscover_pox") == 1
    assert answered("apple_profile") == 2
    duration = metrics.registry.get_sample_value(
        "autoconfig_request_duration_seconds_count", {"family": "thunderbird"}
    )
    assert duration == 3


def test_a_reload_is_answered_from_the_new_snapshot(tmp_path: Any) -> None:
    """The fast path reads the store's current snapshot on every request."""
    domains = tmp_path / "domains"
    domains.mkdir()
    source = (DOMAINS / "example.org.yaml").read_text()
    (domains / "example.org.yaml").write_text(source)
    app = create_app(Settings.from_env({"AUTOCONFIG_RELOAD_INTERVAL": "0"}).with_domains(domains))
    client = Client(app.wsgi_app)
    path = f"{THUNDERBIRD}?emailaddress=a@example.org"
    before = client.get(path).get_data()
    assert b"imap.example.org" in before
    edited = source.replace("imap.example.org", "mail.example.org")
    (domains / "example.org.yaml").write_text(edited)
    store = app.extensions["autoconfig.store"]
    assert store.reload_if_changed()
    after = client.get(path).get_data()
    assert b"mail.example.org" in after
    assert b"imap.example.org" not in after
