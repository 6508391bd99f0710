"""Random requests, good and hostile, aimed at every route, and a driver for the installed app.

``requests(seed, count)`` yields (method, path, query, headers, body) built from the
route table's paths, mutated: letter case, extra or missing segments, percent-escapes
of any byte, control characters and very long values in queries and headers, random
and truncated XML bodies, and the well-formed requests clients send. A seed makes a run
repeatable.

Run as a script by the *installed* wheel's Python (``python -I fuzz_requests.py``:
only the standard library and the installed ``autoconfig`` are imported), it calls the
WSGI application in-process for every request and prints the statuses it saw as JSON,
with the first requests that got a 5xx.
"""

from __future__ import annotations

import io
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

Request = tuple[str, str, str, dict[str, str], bytes]

PATHS = (
    "/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml",
    "/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
    "/autodiscover/autodiscover.json", "/autodiscover/autodiscover.json/v1.0/alice@example.com",
    "/apple/profile.mobileconfig", "/.well-known/user-agent-configuration.json",
    "/.well-known/caldav", "/.well-known/carddav", "/brand/example.com/logo",
    "/brand/example.com/theme.css", "/healthz", "/readyz", "/metrics", "/", "/apple",
    "/apple/style.css",
)
METHODS = ("GET", "GET", "GET", "POST", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PROPFIND")
HOSTS = (
    "autoconfig.example.com", "autodiscover.example.com", "ua-auto-config.example.com",
    "example.com", "autoconfig.xn--bcher-kva.example", "autoconfig.bücher.example",
    "customer-one.example", "unknown.test", "", "exa mple.com", "[::1]:8000", "a" * 300,
    "autoconfig.example.com:99999", "..", "-.example.com",
)
ADDRESSES = (
    "alice@example.com", "bob@example.org", "jürgen@bücher.example", "x@customer-two.example",
    "no-at-sign", "@example.com", "a@", "a@@example.com", "a b@example.com",
    "<script>@example.com", "a@exa_mple.com", "a\r\nb@example.com", "a" * 400 + "@example.com",
    "alice@unknown.test", "\x00@example.com", "alice%40example.com", "",
)
KEYS = ("emailaddress", "Email", "email", "Protocol", "protocol", "name", "lang", "password")
CONTENT_TYPES = (
    "text/xml", "text/xml; charset=utf-8", "application/xml", "", "application/json",
    "multipart/form-data; boundary=x", "text/xml; charset=\x00",
    "application/x-www-form-urlencoded",
)
POX = (
    '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
    'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>{address}'
    "</EMailAddress><AcceptableResponseSchema>{schema}</AcceptableResponseSchema></Request>"
    "</Autodiscover>"
)
SCHEMAS = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a",
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
    "urn:nothing", "",
)


def _text(rng: random.Random) -> str:
    """A short random string of anything: ASCII, controls, Unicode, escapes."""
    alphabet = "abcXYZ019@.-_+%&=;/?# \t\r\n\x00\x7f<>\"'éü日\u202e\ufffd"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


def _mutate_path(rng: random.Random, path: str) -> str:
    choice = rng.random()
    if choice < 0.5:
        return path
    if choice < 0.6:
        return "".join(c.upper() if rng.random() < 0.5 else c for c in path)
    if choice < 0.7:
        return path + "/" + quote(_text(rng), safe="")
    if choice < 0.8:
        return path.rsplit("/", 1)[0] or "/"
    if choice < 0.9:
        return "/" + quote(_text(rng), safe="/%")
    return path.replace("alice@example.com", quote(rng.choice(ADDRESSES), safe="@"))


def _query(rng: random.Random) -> str:
    fields = []
    for _ in range(rng.choice((0, 1, 1, 2, 3, 40))):
        key = rng.choice(KEYS) if rng.random() < 0.8 else _text(rng)
        value = rng.choice(ADDRESSES) if rng.random() < 0.6 else _text(rng)
        if key.lower() == "protocol" and rng.random() < 0.5:
            value = rng.choice(("imap", "pop3", "activesync", "AutodiscoverV1", "Ews", "x"))
        fields.append(f"{quote(key, safe='')}={quote(value, safe='@')}")
    if rng.random() < 0.05:
        fields.append("%FF%FE=%C3%28&&=&%")
    return "&".join(fields)


def _body(rng: random.Random) -> bytes:
    choice = rng.random()
    if choice < 0.5:
        body = POX.format(address=rng.choice(ADDRESSES), schema=rng.choice(SCHEMAS)).encode()
        return body[: rng.randint(0, len(body))] if rng.random() < 0.2 else body
    if choice < 0.6:
        return b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    if choice < 0.8:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    return _text(rng).encode("utf-8", "surrogatepass")


def requests(seed: int, count: int) -> Iterator[Request]:
    """``count`` requests, the same ones for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - repeatable test input, not a secret
    for _ in range(count):
        method = rng.choice(METHODS)
        path = _mutate_path(rng, rng.choice(PATHS))
        headers = {"Host": rng.choice(HOSTS)}
        if rng.random() < 0.3:
            headers["Accept-Language"] = rng.choice(("de-AT, en;q=0.5", "*", "xx", _text(rng)))
        if rng.random() < 0.2:
            headers["If-None-Match"] = rng.choice(('"abc"', "*", "W/", _text(rng)))
        if rng.random() < 0.2:
            headers["Accept"] = rng.choice(("text/html", "*/*", _text(rng)))
        body = b""
        if method in ("POST", "PUT"):
            body = _body(rng)
            headers["Content-Type"] = rng.choice(CONTENT_TYPES)
        yield method, path, _query(rng), headers, body


def environ(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> dict:
    """The WSGI environ a server would build (strings as latin-1 of the UTF-8 bytes)."""
    def wsgi(text: str) -> str:
        return text.encode("utf-8", "surrogatepass").decode("latin-1")

    env = {
        "REQUEST_METHOD": method, "PATH_INFO": wsgi(path), "QUERY_STRING": wsgi(query),
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.input_terminated": True,
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
        env[key] = wsgi(value)
    return env


def main() -> None:
    """``fuzz_requests.py DOMAINS SEED COUNT``: statuses of the installed app, as JSON."""
    # Here, not at the top: the test process imports this module for the generator alone.
    from autoconfig import create_app  # noqa: PLC0415 - the installed package, run with -I
    from autoconfig.settings import Settings  # noqa: PLC0415

    domains, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    settings = Settings.from_env({"AUTOCONFIG_RELOAD_INTERVAL": "0", "AUTOCONFIG_DOMAINS": domains})
    app = create_app(settings)
    statuses: Counter[int] = Counter()
    server_errors: list[str] = []
    for request in requests(seed, count):
        seen: list[int] = []

        def start_response(status: str, headers: list, exc_info: object = None) -> None:
            seen.append(int(status[:3]))  # noqa: B023 - called before the loop moves on

        b"".join(app(environ(*request), start_response))
        statuses[seen[0]] += 1
        if seen[0] >= 500 and len(server_errors) < 5:
            server_errors.append(repr(request)[:500])
    print(json.dumps({"statuses": statuses, "server_errors": server_errors}))


if __name__ == "__main__":
    main()
