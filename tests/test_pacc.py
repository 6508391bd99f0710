"""PACC documents from the real server, read by a client written from the draft's text.

Domains the tests never saw are written to a temporary folder; the running server
(gunicorn) answers ``ua-auto-config.<domain>``; ``autoconfig dns records`` prints the TXT
record, and the client accepts the bytes only when that record's digest matches them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import dns.zone
import pytest

from autoconfig.domains.registry import load_directory
from autoconfig.render.pacc import render_pacc
from tests.support.cli import run_cli
from tests.support.dns_server import zone_header
from tests.support.http import Reply, request
from tests.support.pacc_reader import (
    PaccRejects,
    TextServer,
    read_pacc,
    verify_digest,
)
from tests.support.paths import DOMAINS
from tests.support.server import RunningServer, run_server

PATH = "/.well-known/user-agent-configuration.json"
SERVER_HOST = "config.provider.test"
TAG = uuid.uuid4().hex[:8]
HOSTED = f"hosted-{TAG}.test"  # a file whose hosts use %EMAILDOMAIN%
OTHER = f"other-{TAG}.test"  # a second domain of the same file
OAUTH = f"oauth-{TAG}.test"
STARTTLS = f"starttls-{TAG}.test"

FILES = {
    "hosted.yaml": f"""
name: Hosted Mail {TAG}
short_name: Hosted
domains: [{HOSTED}, {OTHER}]
help_url: https://help.{HOSTED}/mail
caldav: https://dav.{HOSTED}/cal/
carddav: https://dav.{HOSTED}/card/
jmap: https://jmap.{HOSTED}/.well-known/jmap
incoming:
  - {{protocol: imap, host: "imap.%EMAILDOMAIN%", security: tls}}
  - {{protocol: pop3, host: "pop.%EMAILDOMAIN%", security: tls}}
  - {{protocol: imap, host: "old.%EMAILDOMAIN%", security: starttls}}
outgoing:
  - {{protocol: smtp, host: "smtp.%EMAILDOMAIN%", port: 587, security: starttls}}
  - {{protocol: smtp, host: "smtp.%EMAILDOMAIN%", security: tls}}
""",
    "oauth.yaml": f"""
name: OAuth Mail {TAG}
domains: [{OAUTH}]
incoming:
  - {{protocol: imap, host: mail.{OAUTH}, security: tls, auth: [oauth2, password]}}
outgoing:
  - {{protocol: smtp, host: mail.{OAUTH}, security: tls, auth: oauth2}}
oauth2:
  issuer: https://login.{OAUTH}/realms/mail
  scopes: [mail]
  client_id: public-mail-client
""",
    "starttls.yaml": f"""
name: Old Mail {TAG}
domains: [{STARTTLS}]
incoming:
  - {{protocol: imap, host: mail.{STARTTLS}, security: starttls}}
  - {{protocol: imap, host: mail.{STARTTLS}, port: 1993, security: tls}}
outgoing:
  - {{protocol: smtp, host: mail.{STARTTLS}, security: tls, username: "%EMAILLOCALPART%"}}
""",
}


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("domains")
    for name, text in FILES.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def server(domains: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(domains, tmp_path_factory.mktemp("log") / "server.log") as running:
        yield running


def fetch(server: RunningServer, host: str) -> Reply:
    return request(server.base, PATH, headers={"Host": host})


def published_txt(domains: Path, domain: str) -> list[list[bytes]]:
    """The TXT record `dns records` prints for ``domain``, as DNS hands it to a client."""
    printed = run_cli("dns", "records", domain, "--domains", str(domains),
                      "--server-host", SERVER_HOST)
    assert printed.returncode == 0, printed.stderr
    zone = dns.zone.from_text(zone_header(domain) + printed.stdout, origin=f"{domain}.")
    rdataset = zone.find_rdataset("_ua-auto-config", "TXT")
    return [list(rdata.strings) for rdata in rdataset]


def test_document_lists_what_the_draft_can_express(server: RunningServer, domains: Path) -> None:
    reply = fetch(server, f"ua-auto-config.{HOSTED}")
    assert reply.status == 200, reply.text
    verify_digest(reply.body, published_txt(domains, HOSTED))
    config = read_pacc(reply.body)
    assert config.servers == {  # STARTTLS and port 587 are left out: PACC cannot say them
        "imap": TextServer("imap", f"imap.{HOSTED}", 993),
        "pop3": TextServer("pop3", f"pop.{HOSTED}", 995),
        "smtp": TextServer("smtp", f"smtp.{HOSTED}", 465),
    }
    assert config.urls == {"caldav": f"https://dav.{HOSTED}/cal/",
                           "carddav": f"https://dav.{HOSTED}/card/",
                           "jmap": f"https://jmap.{HOSTED}/.well-known/jmap"}
    assert (config.password, config.oauth_issuer) == (True, None)
    assert (config.provider_name, config.provider_short_name) == (f"Hosted Mail {TAG}", "Hosted")
    assert config.help_documentation == f"https://help.{HOSTED}/mail"


def test_each_domain_of_a_file_gets_its_own_hosts_and_digest(
    server: RunningServer, domains: Path
) -> None:
    hosted = fetch(server, f"ua-auto-config.{HOSTED}")
    other = fetch(server, f"ua-auto-config.{OTHER}")
    assert read_pacc(other.body).servers["imap"] == TextServer("imap", f"imap.{OTHER}", 993)
    verify_digest(other.body, published_txt(domains, OTHER))
    with pytest.raises(PaccRejects, match="no _ua-auto-config TXT record matches"):
        verify_digest(other.body, published_txt(domains, HOSTED))
    assert hosted.body != other.body


def test_bytes_are_identical_on_every_request_and_match_the_renderer(
    server: RunningServer, domains: Path
) -> None:
    bodies = {fetch(server, f"ua-auto-config.{OAUTH}").body for _ in range(5)}
    assert len(bodies) == 1
    config = load_directory(domains).lookup(OAUTH)
    assert config is not None
    assert bodies == {render_pacc(config, OAUTH)}
    body = bodies.pop()
    document = json.loads(body)
    assert body.decode("utf-8") == json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def test_oauth2_block_gives_oauth_public_with_its_issuer(
    server: RunningServer, domains: Path
) -> None:
    reply = fetch(server, f"ua-auto-config.{OAUTH}")
    verify_digest(reply.body, published_txt(domains, OAUTH))
    config = read_pacc(reply.body)
    assert config.oauth_issuer == f"https://login.{OAUTH}/realms/mail"
    assert config.password is True  # IMAP takes a password too
    assert config.servers == {"imap": TextServer("imap", f"mail.{OAUTH}", 993),
                              "smtp": TextServer("smtp", f"mail.{OAUTH}", 465)}


def test_headers_content_type_cors_and_conditional_get(server: RunningServer) -> None:
    reply = fetch(server, f"ua-auto-config.{HOSTED}")
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("Access-Control-Allow-Origin") == "*"
    etag = reply.header("ETag")
    assert etag is not None
    again = request(server.base, PATH, headers={"Host": f"ua-auto-config.{HOSTED}",
                                                "If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""


def test_a_domain_with_nothing_expressible_gets_an_empty_protocol_list(
    server: RunningServer, domains: Path
) -> None:
    reply = fetch(server, f"ua-auto-config.{STARTTLS}")
    verify_digest(reply.body, published_txt(domains, STARTTLS))
    config = read_pacc(reply.body)
    assert config.servers == {}
    assert config.password is False


@pytest.mark.parametrize(
    ("host", "status"), [(f"ua-auto-config.nowhere-{TAG}.test", 404), ("ua..auto", 400)]
)
def test_unknown_or_bad_host_gets_a_clear_status(
    server: RunningServer, host: str, status: int
) -> None:
    reply = fetch(server, host)
    assert reply.status == status
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"


def test_check_warns_when_pacc_gets_no_usable_entry(domains: Path) -> None:
    result = run_cli("check", str(domains))
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if "PACC" in line]
    assert warnings == [
        f"{domains}/starttls.yaml:4: warning: incoming: no incoming server PACC can express, so"
        f" PACC clients get no usable incoming entry (mail.{STARTTLS}:143: starttls is not"
        f" implicit TLS, the only transport PACC can say; mail.{STARTTLS}:1993: port 1993 is"
        " not 993, the one imap port PACC says); offer implicit TLS on the standard port with"
        " %EMAILADDRESS% as username (autoconfig docs pacc)",
        f"{domains}/starttls.yaml:7: warning: outgoing: no outgoing server PACC can express, so"
        f" PACC clients get no usable outgoing entry (mail.{STARTTLS}:465: the login name is"
        " not the email address, and PACC has no username field); offer implicit TLS on the"
        " standard port with %EMAILADDRESS% as username (autoconfig docs pacc)",
    ]


def test_bundled_example_com_document() -> None:
    config = load_directory(DOMAINS).lookup("example.com")
    assert config is not None
    read = read_pacc(render_pacc(config, "example.com"))
    assert set(read.servers) == {"imap", "pop3", "smtp"}
    assert set(read.urls) == {"caldav", "carddav"}


def test_render_pacc_prints_the_bytes_the_server_sends(
    server: RunningServer, domains: Path
) -> None:
    printed = run_cli("render", "pacc", f"someone@{OTHER}", "--domains", str(domains))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout_bytes == fetch(server, f"ua-auto-config.{OTHER}").body
