"""Domain files: every shipped file loads, and every mistake gets a precise message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from autoconfig.domains.load import load_file
from autoconfig.domains.records import Auth, Protocol, Security
from autoconfig.domains.registry import load_directory
from tests.support.cli import run_cli
from tests.support.paths import DOMAINS, TEST_DATA

BROKEN = TEST_DATA / "broken-domains"


@pytest.mark.parametrize("path", sorted(DOMAINS.glob("*.y*ml")), ids=lambda p: p.name)
def test_every_shipped_domain_file_loads(path: Path) -> None:
    result = load_file(path)
    assert result.errors == ()
    assert result.loaded is not None
    config = result.loaded.config
    assert config.incoming and config.outgoing and config.domains


def test_example_file_resolves_defaults_as_documented() -> None:
    result = load_file(DOMAINS / "example.com.yaml")
    assert result.loaded is not None
    config = result.loaded.config
    imap, pop3 = config.incoming
    assert (imap.protocol, imap.port, imap.security) == (Protocol.IMAP, 993, Security.TLS)
    assert (pop3.protocol, pop3.port) == (Protocol.POP3, 995)  # port left to its default
    assert pop3.pop3 is not None and pop3.pop3.days_to_leave == 14
    assert [(s.port, s.security) for s in config.outgoing] == [
        (465, Security.TLS), (587, Security.STARTTLS)
    ]
    assert imap.auth == (Auth.PASSWORD,)
    assert imap.username == "%EMAILADDRESS%"


def test_idn_and_aliases_are_registry_keys() -> None:
    registry = load_directory(DOMAINS)
    assert registry.errors == ()
    hosting = registry.lookup("customer-two.example")
    assert hosting is not None and hosting.id == "example.net"
    books = registry.lookup("xn--bcher-kva.example")
    assert books is not None and books.name == "Bücher Mail"
    assert registry.lookup("bücher.example") is None  # callers normalise first


def test_check_accepts_the_bundled_domains() -> None:
    result = run_cli("check", "domains")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_check_reports_every_error_with_file_line_path_expected_and_found() -> None:
    result = run_cli("check", "tests/data/broken-domains")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    broken = "tests/data/broken-domains"
    assert lines == [
        f"{broken}/good.example.yaml:2: domains[1]: 'shared.example' is already served by"
        f" {broken}/clash.example.yaml; this file is not loaded",
        f"{broken}/missing.example.yaml:4: incoming[0].host: required key is missing",
        f"{broken}/missing.example.yaml:1: outgoing: required key is missing",
        f"{broken}/syntax.example.yml:3: YAML syntax error: while parsing a flow sequence"
        " did not find expected ',' or ']'",
        f"{broken}/typo.example.yaml:12: incoming[1].security: expected one of tls, starttls,"
        " none; got 'ssl '",
        f"{broken}/typo.example.yaml:13: incoming[1].secruity: unknown key;"
        " did you mean 'security'?",
        f"{broken}/typo.example.yaml:17: outgoing[0].port: expected a whole number; got '587'",
        f"{broken}/typo.example.yaml:19: outgoing[0].auth[1]: expected one of password,"
        " password-encrypted, ntlm, gssapi, oauth2, client-cert, none; got 'pasword'",
        f"{broken}: 5 files, 2 domains served, 8 errors, 0 warnings",
    ]


NOT_A_MAPPING = "expected a mapping of keys (name, domains, incoming, outgoing)"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("", f"1: {NOT_A_MAPPING}; got an empty file"),
        ("- a\n- b\n", f"1: {NOT_A_MAPPING}; got a list"),
        ("name: a\nname: b\n", "2: name: key appears twice"),
        ("name: x\ndomains: []\n", "2: domains: expected at least one entry; got a list"),
        (
            "name: x\ndomains: [example.com, EXAMPLE.com]\n",
            "2: domains: expected each domain once; example.com appears twice; got a list",
        ),
        ("colour: blue\n", "1: colour: unknown key; allowed: name, short_name, domains,"
         " incoming, outgoing, webmail, help_url, caldav, carddav, ews, owa, activesync, jmap,"
         " mx, directory, oauth2, logo, accent_color"),
    ],
)
def test_single_file_mistakes(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(yaml_text)
    result = load_file(path, "x.yaml")
    assert f"x.yaml:{message}" in [str(e) for e in result.errors]


SERVER_BASE = (
    "name: x\ndomains: [x.example]\noutgoing: [{host: smtp.x.example, security: tls}]\n"
    "incoming:\n  - protocol: imap\n    host: {host}\n    security: tls\n"
)


@pytest.mark.parametrize(
    ("host", "accepted"),
    [
        ("mail.%EMAILDOMAIN%", "mail.%EMAILDOMAIN%"),
        ("MAIL.Example.COM", "mail.example.com"),
        ("mail.bücher.example", "mail.xn--bcher-kva.example"),
        ("mail.%EMAILLOCALPART%.example", None),
        ("mail example.com", None),
        ("mail.%EMAILDOMAIN%.ä", None),
    ],
)
def test_host_names_and_placeholders(tmp_path: Path, host: str, accepted: str | None) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(SERVER_BASE.replace("{host}", f"'{host}'"))
    result = load_file(path, "x.yaml")
    if accepted is None:
        assert [e.path for e in result.errors] == ["incoming[0].host"]
    else:
        assert result.loaded is not None
        assert result.loaded.config.incoming[0].host == accepted


def test_pop3_options_only_on_pop3(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    text = SERVER_BASE.replace("{host}", "imap.x.example") + "    pop3: {days_to_leave: 3}\n"
    path.write_text(text)
    errors = load_file(path, "x.yaml").errors
    assert [str(e) for e in errors] == [
        "x.yaml:5: incoming[0]: expected pop3 options only on a pop3 server; got a mapping"
    ]


def test_check_prints_client_behaviour_warnings(tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text(
        "name: Plain\ndomains: [plain.example]\n"
        "incoming:\n"
        "  - {protocol: imap, host: imap.plain.example, security: none, port: 143}\n"
        "  - {protocol: imap, host: imap.plain.example, security: starttls, port: 993}\n"
        "  - {protocol: imap, host: imap.plain.example, security: tls, auth: oauth2}\n"
        "outgoing:\n"
        "  - {host: smtp.plain.example, security: tls, username: shared-login}\n"
    )
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 0  # warnings alone do not fail the check
    out = result.stdout
    assert "plain.yaml:4: warning: incoming[0].security: security: none" in out
    assert "Thunderbird for Android" in out
    assert "plain.yaml:5: warning: incoming[1].port: port 993 is not the standard port" in out
    assert "plain.yaml:6: warning: incoming[2].auth: oauth2 with no password method" in out
    assert "plain.yaml:8: warning: outgoing[0].username: every user gets the same" in out
    assert run_cli("check", "--strict", str(tmp_path)).returncode == 1


def test_check_of_an_empty_directory_fails(tmp_path: Path) -> None:
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    assert "0 domains served" in result.stdout


def test_check_of_a_missing_directory_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("check", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "not a directory of domain files" in result.stderr
    assert "Traceback" not in result.stderr


def test_oauth2_alone_is_fine_where_thunderbird_has_a_provider(tmp_path: Path) -> None:
    (tmp_path / "gmail.yaml").write_text(
        "name: G\ndomains: [g.example]\n"
        "incoming: [{protocol: imap, host: imap.gmail.com, security: tls, auth: oauth2}]\n"
        "outgoing: [{host: smtp.gmail.com, security: tls, auth: oauth2}]\n"
    )
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 0
    assert "Thunderbird has no OAuth2 provider" not in result.stdout


def test_yaml_alias_bombs_and_deep_nesting_are_refused_quickly(tmp_path: Path) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
             for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    (tmp_path / "deep.yaml").write_text("name: " + "[" * 5000 + "]" * 5000 + "\n")
    started = time.monotonic()
    bomb_errors = load_file(tmp_path / "bomb.yaml", "bomb.yaml").errors
    deep_errors = load_file(tmp_path / "deep.yaml", "deep.yaml").errors
    assert time.monotonic() - started < 5
    assert "expands further (YAML aliases?)" in str(bomb_errors[0])
    assert [str(e) for e in deep_errors] == [
        "deep.yaml:1: YAML syntax error: while increasing flow level exceeded maximum nesting depth"
    ]
