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


def test_the_bundled_domains_pass_check_strict() -> None:
    """They are what a new admin copies: no error, and no warning either."""
    result = run_cli("check", "--strict", "domains")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "domains: 4 files, 6 domains served, 0 errors, 0 warnings\n"


def test_check_reports_every_error_with_file_line_path_expected_and_found() -> None:
    result = run_cli("check", "tests/data/broken-domains")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    broken = "tests/data/broken-domains"
    assert lines == [
        f"{broken}/good.example.yaml:2: domains[1]: 'shared.example' is already served by"
        f" {broken}/clash.example.yaml; this file is not loaded",
        f"{broken}/missing.example.yaml:1: outgoing: required key is missing",
        f"{broken}/missing.example.yaml:4: incoming[0].host: required key is missing",
        f"{broken}/syntax.example.yml:2: the [ list that starts on this line is not closed"
        " with ] (or a comma is missing between its items)",
        f"{broken}/typo.example.yaml:12: incoming[1].security: expected one of tls, starttls,"
        " none; got 'ssl '; did you mean 'ssl'?",
        f"{broken}/typo.example.yaml:13: incoming[1].secruity: unknown key;"
        " did you mean 'security'?",
        f"{broken}/typo.example.yaml:17: outgoing[0].port: expected a whole number; got '587'",
        f"{broken}/typo.example.yaml:19: outgoing[0].auth[1]: expected one of password,"
        " password-encrypted, ntlm, gssapi, oauth2, client-cert, none; got 'pasword';"
        " did you mean 'password'?",
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
        "deep.yaml:1: brackets nested too deeply to be a domain file"
    ]


# --- a first domain file: the mistakes of the first hour, in plain words -----------------

FIRST = (
    "name: First Mail\n"                    # 1
    "domains: [first.example]\n"            # 2
    "incoming:\n"                           # 3
    "  - protocol: imap\n"                  # 4
    "    host: imap.first.example\n"        # 5
    "    security: tls\n"                   # 6
    "    auth: password\n"                  # 7
    "outgoing:\n"                           # 8
    "  - host: smtp.first.example\n"        # 9
    "    security: tls\n"                   # 10
)
COMMENT = (
    "empty, because YAML reads an unquoted # as the start of a comment; put the value in quotes"
)
INDENTATION = (
    "this line is indented differently from the lines above it: keys and list items of one"
    " level must start in the same column"
)


def check_first(tmp_path: Path, text: str) -> list[str]:
    """What `autoconfig check` prints about one file (without the summary line)."""
    (tmp_path / "first.yaml").write_text(text)
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 0 if "0 errors" in result.stdout else 1
    shown = f"{tmp_path}/"
    return [line.removeprefix(shown) for line in result.stdout.splitlines()[:-1]]


@pytest.mark.parametrize(
    ("old", "new", "printed"),
    [
        # a colour or a name that YAML read as a comment
        ("outgoing:\n", "accent_color: #ff0000\noutgoing:\n",
         [f"first.yaml:8: accent_color: {COMMENT}: accent_color: '#ff0000'"]),
        ("name: First Mail", "name: #1 Mail",
         [f"first.yaml:1: name: {COMMENT}: name: '#1 Mail'"]),
        ("  - host: smtp.first.example\n", "  - host: smtp.first.example\n    username: #team's\n",
         [f"first.yaml:10: outgoing[0].username: {COMMENT}: username: \"#team's\""]),
        # the words of the format in another case, or misspelt
        ("security: tls\n    auth", "security: SSL\n    auth",
         ["first.yaml:6: incoming[0].security: expected one of tls, starttls, none; got 'SSL';"
          " did you mean 'ssl'?"]),
        ("security: tls\n    auth", "security: STARTTLS\n    auth",
         ["first.yaml:6: incoming[0].security: expected one of tls, starttls, none;"
          " got 'STARTTLS'; did you mean 'starttls'?"]),
        ("auth: password", "auth: [Password, OAuth2]",
         ["first.yaml:7: incoming[0].auth[0]: expected one of password, password-encrypted,"
          " ntlm, gssapi, oauth2, client-cert, none; got 'Password'; did you mean 'password'?",
          "first.yaml:7: incoming[0].auth[1]: expected one of password, password-encrypted,"
          " ntlm, gssapi, oauth2, client-cert, none; got 'OAuth2'; did you mean 'oauth2'?"]),
        ("security: tls\n    auth", "security: startls\n    auth",
         ["first.yaml:6: incoming[0].security: expected one of tls, starttls, none;"
          " got 'startls'; did you mean 'starttls'?"]),
        # YAML syntax: tabs, indentation, colons, quotes, brackets
        ("  - protocol: imap", "\t- protocol: imap",
         ["first.yaml:4: indented with a tab: YAML indents with spaces only; replace the tab"
          " with spaces"]),
        ("    security: tls\n    auth", "     security: tls\n    auth",
         ["first.yaml:6: a second colon on this line: either it is indented further than the"
          " key above it (keys of one level start in the same column), or a value contains"
          " ': ' and needs quotes"]),
        ("    security: tls\n    auth", "   security: tls\n    auth",
         [f"first.yaml:6: {INDENTATION}"]),
        ("outgoing:\n", " - protocol: pop3\noutgoing:\n", [f"first.yaml:8: {INDENTATION}"]),
        ("name: First Mail", "name: First: Mail",
         ["first.yaml:1: a second colon on this line: either it is indented further than the"
          " key above it (keys of one level start in the same column), or a value contains"
          " ': ' and needs quotes"]),
        ("outgoing:", "outgoing", ["first.yaml:8: expected 'key: value' on this line; the colon"
                                   " after the key is missing"]),
        ("name: First Mail", "name: 'First Mail",
         ["first.yaml:1: the quote that opens a value on this line is never closed"]),
        ("name: First Mail", "name: @first",
         ["first.yaml:1: a value cannot start with '@'; put the value in quotes"]),
        ("domains: [first.example]", "domains: [first.example",
         ["first.yaml:2: the [ list that starts on this line is not closed with ] (or a comma"
          " is missing between its items)"]),
    ],
    ids=["colour", "name", "quote-in-value", "SSL", "STARTTLS", "Password", "startls", "tab",
         "deeper", "shallower", "list-item", "colon-in-value", "no-colon", "open-quote",
         "at-sign", "open-bracket"],
)
def test_first_hour_mistakes_are_explained_on_their_line(
    tmp_path: Path, old: str, new: str, printed: list[str]
) -> None:
    assert FIRST.count(old) == 1
    assert check_first(tmp_path, FIRST.replace(old, new)) == printed


def test_a_comment_after_a_key_is_still_a_comment(tmp_path: Path) -> None:
    """``webmail:  # later`` (a blank after #) says null on purpose: no error."""
    text = FIRST.replace("name: First Mail\n", "name: First Mail\nwebmail:  # later\n")
    assert check_first(tmp_path, text) == []


def test_errors_of_a_file_are_printed_top_to_bottom(tmp_path: Path) -> None:
    """A value lost to a comment, then the format's errors, in line order."""
    text = (
        FIRST.replace("security: tls\n    auth", "security: SSL\n    auth")
        .replace("name: First Mail", "name: #1 Mail")
        .replace("  - host: smtp.first.example\n    security", "  - security")
    )
    assert check_first(tmp_path, text) == [
        f"first.yaml:1: name: {COMMENT}: name: '#1 Mail'",
        "first.yaml:6: incoming[0].security: expected one of tls, starttls, none; got 'SSL';"
        " did you mean 'ssl'?",
        "first.yaml:9: outgoing[0].host: required key is missing",
    ]
