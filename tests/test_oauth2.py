"""The ``oauth2:`` block: its clientConfig 1.2 ``<oAuth2>`` element changes nothing that
today's readers take (Thunderbird desktop's readFromXML oracle, Thunderbird for Android's
RealAutoconfigParser rules, Delta Chat's auto_mozilla.rs), and a client secret is refused
with a located message."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from autoconfig.domains.registry import load_directory
from autoconfig.render.thunderbird import render_thunderbird
from tests.support.android_reader import AndroidRejects, AndroidServer, read_android
from tests.support.cli import run_cli
from tests.support.deltachat_reader import DeltaChatServer, read_deltachat
from tests.support.paths import DOMAINS
from tests.support.thunderbird_reader import read_client_config

BASE = """name: Books Mail
domains: [books.test]
incoming:
  - {protocol: imap, host: mail.books.test, security: tls, auth: [oauth2, password]}
  - {protocol: pop3, host: mail.books.test, security: tls}
outgoing:
  - {protocol: smtp, host: mail.books.test, port: 587, security: starttls, auth: [oauth2, password]}
"""
OAUTH2 = """oauth2:
  issuer: https://login.books.test
  authorization_url: https://login.books.test/authorize
  token_url: https://login.books.test/token
  scopes: [mail, "offline_access"]
  client_id: books-public
"""


def document(tmp_path: Path, text: str) -> bytes:
    (tmp_path / "books.yaml").write_text(text)
    registry = load_directory(tmp_path)
    assert registry.errors == (), registry.errors
    config = registry.lookup("books.test")
    assert config is not None
    return render_thunderbird(config)


def test_oauth2_element_carries_the_block(tmp_path: Path) -> None:
    root = etree.fromstring(document(tmp_path, BASE + OAUTH2))
    (oauth,) = root.findall("oAuth2")
    assert [(child.tag, child.text) for child in oauth] == [
        ("issuer", "login.books.test"),
        ("scope", "mail offline_access"),
        ("authURL", "https://login.books.test/authorize"),
        ("tokenURL", "https://login.books.test/token"),
        ("clientID", "books-public"),
    ]
    assert root.get("version") == "1.1"


def test_thunderbird_desktop_reads_the_same_servers(tmp_path: Path) -> None:
    without = read_client_config(document(tmp_path, BASE))
    with_block = read_client_config(document(tmp_path, BASE + OAUTH2))
    assert with_block == without
    assert [s.hostname for s in with_block.incoming] == ["mail.books.test", "mail.books.test"]


def test_thunderbird_android_reads_the_same_servers(tmp_path: Path) -> None:
    without = read_android(document(tmp_path, BASE), "reader@books.test")
    with_block = read_android(document(tmp_path, BASE + OAUTH2), "reader@books.test")
    assert with_block == without
    assert with_block.incoming == (AndroidServer(
        "mail.books.test", 993, "TLS", ("OAuth2", "PasswordCleartext"), "reader@books.test"),)
    assert with_block.outgoing == (AndroidServer(
        "mail.books.test", 587, "StartTLS", ("OAuth2", "PasswordCleartext"),
        "reader@books.test"),)


def test_delta_chat_reads_the_same_servers(tmp_path: Path) -> None:
    without = read_deltachat(document(tmp_path, BASE), "reader@books.test")
    with_block = read_deltachat(document(tmp_path, BASE + OAUTH2), "reader@books.test")
    assert with_block == without == [
        DeltaChatServer("imap", "Ssl", "mail.books.test", 993, "reader@books.test"),
        DeltaChatServer("smtp", "Starttls", "mail.books.test", 587, "reader@books.test"),
    ]


@pytest.mark.parametrize("path", sorted(DOMAINS.glob("*.yaml")), ids=lambda p: p.name)
def test_android_accepts_every_bundled_document(path: Path) -> None:
    registry = load_directory(DOMAINS)
    for domain, config in registry.by_domain.items():
        if config.source.endswith(path.name):
            settings = read_android(render_thunderbird(config), f"someone@{domain}")
            assert settings.incoming, domain


def test_android_rejects_a_whole_document_with_a_plain_server(tmp_path: Path) -> None:
    plain = BASE.replace("port: 587, security: starttls", "port: 587, security: none")
    with pytest.raises(AndroidRejects, match="Unknown 'socketType' value: 'plain'"):
        read_android(document(tmp_path, plain), "reader@books.test")


def test_a_client_secret_is_refused_with_its_line_and_never_echoed(tmp_path: Path) -> None:
    (tmp_path / "books.yaml").write_text(BASE + OAUTH2 + "  client_secret: s3cr3t-value\n")
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{tmp_path}/books.yaml:14: oauth2.client_secret: a client secret has no place in a"
        " domain file: every client (and anyone else) downloads the documents it feeds, so it"
        " would be public; register a public client (PKCE, draft-ietf-mailmaint-oauth-public)"
        " and give only client_id"
    )
    assert "s3cr3t" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("  issuer: http://login.books.test", "oauth2.issuer: expected an https:// URL"),
        ("  issuer: https://login.books.test/?x=1", "expected a URL without ?query or #fragment"),
        ("  issuer: https://login.books.test\n  scopes: [mail imap]",
         "oauth2.scopes[0]: expected one scope without spaces"),
        ("  issuer: https://login.books.test\n  client_ID: x", "unknown key; did you mean"
         " 'client_id'?"),
    ],
)
def test_bad_oauth2_values_are_located(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "books.yaml").write_text(BASE + "oauth2:\n" + line + "\n")
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    assert message in result.stdout.splitlines()[0]
    assert result.stdout.startswith(f"{tmp_path}/books.yaml:")


def test_check_warns_about_oauth2_without_a_block(tmp_path: Path) -> None:
    (tmp_path / "books.yaml").write_text(BASE)
    result = run_cli("check", str(tmp_path))
    assert (
        f"{tmp_path}/books.yaml:4: warning: incoming[0].auth: oauth2 without an oauth2: block:"
        " PACC and clientConfig 1.2 clients learn no issuer, so they cannot use it; add oauth2:"
        " with issuer"
    ) in result.stdout.splitlines()


def test_check_warns_about_a_block_no_server_uses(tmp_path: Path) -> None:
    (tmp_path / "books.yaml").write_text(BASE.replace("oauth2, ", "") + OAUTH2)
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 0
    assert [line for line in result.stdout.splitlines() if "oauth2" in line] == [
        f"{tmp_path}/books.yaml:8: warning: oauth2: no server lists oauth2 in its auth, so no"
        " client uses this block",
    ]
