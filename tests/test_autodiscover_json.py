"""Autodiscover v2 (JSON) from the real server: both URL forms, errors, no reflection."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.support.http import Reply, request
from tests.support.server import RunningServer

EXAMPLE_COM_URL = "https://autodiscover.example.com/autodiscover/autodiscover.xml"
INVALID_PROTOCOL = (
    "The given protocol value '{}' is invalid. Supported values are 'AutodiscoverV1'"
)


def get(server: RunningServer, path: str, host: str = "autodiscover.example.com") -> Reply:
    return request(server.base, path, headers={"Host": host})


def answer(reply: Reply) -> dict[str, str]:
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert reply.header("Cache-Control") == "no-store"
    document: dict[str, str] = json.loads(reply.body)
    return document


@pytest.mark.parametrize(
    "path",
    [
        "/autodiscover/autodiscover.json?Email=alice@example.com&Protocol=AutodiscoverV1",
        "/autodiscover/autodiscover.json?Email=alice%40example.com&Protocol=AutodiscoverV1",
        "/Autodiscover/Autodiscover.json?Email=alice%40example.com&Protocol=Autodiscoverv1",
        "/AUTODISCOVER/AUTODISCOVER.JSON?email=alice%40example.com&protocol=autodiscoverv1",
        "/autodiscover/autodiscover.json/v1.0/alice@example.com?Protocol=AutodiscoverV1",
        "/autodiscover/autodiscover.json/v1.0/alice%40example.com?Protocol=autodiscoverv1",
        "/Autodiscover/Autodiscover.json/V1.0/alice@example.com?Protocol=AUTODISCOVERV1",
        "/autodiscover/autodiscover.json/v1.0/alice@example.com?Protocol=AutodiscoverV1&RedirectCount=1",
    ],
)
def test_both_url_forms_in_any_case(bundled_server: RunningServer, path: str) -> None:
    reply = get(bundled_server, path)
    assert reply.status == 200
    assert answer(reply) == {"Protocol": "AutodiscoverV1", "Url": EXAMPLE_COM_URL}
    assert reply.body == json.dumps(answer(reply), separators=(",", ":")).encode()


@pytest.mark.parametrize("host", ["evil.example", "autodiscover.example.com:1443", "127.0.0.1"])
def test_url_comes_from_the_domain_file_never_from_host(
    bundled_server: RunningServer, host: str
) -> None:
    path = "/autodiscover/autodiscover.json/v1.0/alice@example.com?Protocol=AutodiscoverV1"
    reply = get(bundled_server, path, host=host)
    assert answer(reply)["Url"] == EXAMPLE_COM_URL


@pytest.mark.parametrize(
    ("address", "url"),
    [
        # A hoster's customers are pointed at the hoster's own autodiscover host.
        ("carol@customer-two.example", "https://autodiscover.example.net/autodiscover/autodiscover.xml"),
        ("bob@EXAMPLE.ORG", "https://autodiscover.example.org/autodiscover/autodiscover.xml"),
        ("anna@bücher.example", "https://autodiscover.xn--bcher-kva.example/autodiscover/autodiscover.xml"),
    ],
)
def test_url_per_domain_file(bundled_server: RunningServer, address: str, url: str) -> None:
    path = f"/autodiscover/autodiscover.json?Email={quote(address)}&Protocol=AutodiscoverV1"
    assert answer(get(bundled_server, path)) == {"Protocol": "AutodiscoverV1", "Url": url}


@pytest.mark.parametrize(
    ("protocol", "shown"),
    [
        ("ActiveSync", "ActiveSync"),
        ("Ews", "Ews"),
        ("", ""),
        ("<script>alert('x')</script>", "scriptalertxscript"),
        ("Rest\"},{\"Url\":\"https://evil.example", "RestUrlhttpsevilexample"),
        ("A" * 500, "A" * 32),
        ("Autodiscover\x00V1", "AutodiscoverV1"),
    ],
)
def test_other_protocols_are_invalid_protocol(
    bundled_server: RunningServer, protocol: str, shown: str
) -> None:
    for path in (
        f"/autodiscover/autodiscover.json?Email=alice@example.com&Protocol={quote(protocol)}",
        f"/autodiscover/autodiscover.json/v1.0/alice@example.com?Protocol={quote(protocol)}",
    ):
        reply = get(bundled_server, path)
        assert reply.status == 400
        assert answer(reply) == {
            "ErrorCode": "InvalidProtocol",
            "ErrorMessage": INVALID_PROTOCOL.format(shown),
        }
        for needle in (b"<", b"'x'", b"A" * 33, b"\\u0000", b"https://evil"):
            assert needle not in reply.body


def test_missing_protocol_is_invalid_protocol(bundled_server: RunningServer) -> None:
    reply = get(bundled_server, "/autodiscover/autodiscover.json?Email=alice@example.com")
    assert reply.status == 400
    assert answer(reply)["ErrorCode"] == "InvalidProtocol"


@pytest.mark.parametrize(
    "path",
    [
        "/autodiscover/autodiscover.json?Email=alice@not-served.example&Protocol=AutodiscoverV1",
        "/autodiscover/autodiscover.json/v1.0/alice@not-served.example?Protocol=AutodiscoverV1",
    ],
)
def test_unknown_domain_is_404_json(bundled_server: RunningServer, path: str) -> None:
    reply = get(bundled_server, path)
    assert reply.status == 404
    assert answer(reply) == {
        "ErrorCode": "DomainNotFound",
        "ErrorMessage": "No mail settings are served for this domain.",
    }


@pytest.mark.parametrize(
    "address",
    ["", "no-at-sign", "<script>@example.com", "alice@", "a@b@", "x" * 300 + "@example.com",
     "alice@exa mple.com", "alice\x00@example.com"],
)
def test_malformed_address_is_400_json(bundled_server: RunningServer, address: str) -> None:
    for path in (
        f"/autodiscover/autodiscover.json?Email={quote(address)}&Protocol=AutodiscoverV1",
        f"/autodiscover/autodiscover.json/v1.0/{quote(address)}?Protocol=AutodiscoverV1",
    ):
        reply = get(bundled_server, path)
        if not address and "/v1.0/" in path:
            assert reply.status == 404  # no address segment: no such URL
            continue
        assert reply.status == 400
        assert answer(reply) == {
            "ErrorCode": "InvalidEmailAddress",
            "ErrorMessage": "The given email address is invalid.",
        }
        assert b"script" not in reply.body
