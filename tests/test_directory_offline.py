"""The directory's rules that need no running directory: one-pass placeholders, the
back-off's single probe, what ``check`` says of a ``directory:`` block, a URL with
credentials, and what ``/healthz`` says when the directory has failed for a minute.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from autoconfig.address import parse_address
from autoconfig.answers.operators import healthz
from autoconfig.answers.request import Ask
from autoconfig.cli.common import config_for, load_registry
from autoconfig.directory import Directory
from autoconfig.directory.connection import import_ldap3
from autoconfig.directory.failures import DirectoryFailure, Kind
from autoconfig.directory.health import EndpointHealth
from autoconfig.directory.search import search_filter
from autoconfig.domains.records import DirectorySearch, Server, expand_placeholders
from autoconfig.server.app import create_app
from autoconfig.settings import Settings, SettingsError
from tests.support.cli import run_cli
from tests.support.http import free_port
from tests.support.paths import TEST_DATA

pytestmark = [
    pytest.mark.filterwarnings("ignore:tagMap is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:typeMap is deprecated:DeprecationWarning"),
]

FILES = TEST_DATA / "directory"
TRICKY = parse_address("%EMAILDOMAIN%@corp.test")


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- placeholders: one pass, a placeholder's text inside the address is text ----------------


def test_a_placeholder_in_the_address_is_not_expanded_again() -> None:
    assert expand_placeholders("%EMAILADDRESS%", TRICKY) == "%EMAILDOMAIN%@corp.test"
    assert expand_placeholders("%EMAILLOCALPART%x@%EMAILDOMAIN%", TRICKY) == (
        "%EMAILDOMAIN%x@corp.test"
    )
    server = Server("imap", "mail.%EMAILDOMAIN%", 993, "tls", (), "%EMAILLOCALPART%x")  # type: ignore[arg-type]
    assert server.username_for(TRICKY) == "%EMAILDOMAIN%x"
    assert server.host_for(TRICKY) == "mail.corp.test"


def test_the_filter_is_filled_in_one_pass_and_escaped() -> None:
    escape = import_ldap3().utils.conv.escape_filter_chars
    search = DirectorySearch("dc=corp", "(mail=%EMAILADDRESS%)", "uid")
    assert search_filter(search, TRICKY, escape) == "(mail=%EMAILDOMAIN%@corp.test)"
    both = DirectorySearch("dc=corp", "(&(uid=%EMAILLOCALPART%)(o=%EMAILDOMAIN%))", "uid")
    assert search_filter(both, TRICKY, escape) == "(&(uid=%EMAILDOMAIN%)(o=corp.test))"
    hostile = parse_address("a*%EMAILLOCALPART%@corp.test")
    assert search_filter(both, hostile, escape) == r"(&(uid=a\2a%EMAILLOCALPART%)(o=corp.test))"


def test_a_login_from_the_directory_is_text_and_a_login_the_template_gives_is_not_revealed(
) -> None:
    domain = config_for(load_registry(FILES), parse_address("jane.doe@uni.example"))
    literal = domain.with_login("%EMAILADDRESS%", parse_address("jane.doe@uni.example"))
    assert [s.username_for(parse_address("jane.doe@uni.example")) for s in literal.incoming] == [
        "%EMAILADDRESS%"
    ]
    # the template (%EMAILLOCALPART%) gives "max" for max@: the very record, not a copy
    assert domain.with_login("max", parse_address("max@uni.example")) is domain


# --- the back-off: one probe per worker when it ends ----------------------------------------


def test_after_the_back_off_one_request_asks_and_the_others_answer_from_the_template() -> None:
    clock = Clock()
    health = EndpointHealth(retry_after=10, clock=clock)
    assert [health.admit() for _ in range(3)] == [True, True, True]  # healthy: everyone asks
    assert health.failed(DirectoryFailure(Kind.TIMEOUT, "no answer within 2 s")) is True
    assert health.failed(DirectoryFailure(Kind.TIMEOUT, "again")) is False  # logged once
    assert [health.admit() for _ in range(3)] == [False, False, False]
    clock.now += 10
    assert [health.admit() for _ in range(3)] == [True, False, False]  # the probe alone
    health.failed(DirectoryFailure(Kind.CONNECTION, "refused"))
    assert health.admit() is False
    clock.now += 10
    assert health.admit() is True
    ended = health.answered()
    assert ended is not None and ended.since == 1000.0
    assert [health.admit() for _ in range(3)] == [True, True, True]


# --- settings: no credentials in the URL, the password nowhere ------------------------------


def test_a_url_with_credentials_is_refused_in_one_line_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"AUTOCONFIG_LDAP_URL": "ldap://admin:pw-s3cret@ldap.uni.example"})
    assert str(raised.value) == (
        "AUTOCONFIG_LDAP_URL: expected no user or password in the URL (it is logged and"
        " shown); give them in AUTOCONFIG_LDAP_BIND_DN and AUTOCONFIG_LDAP_BIND_PASSWORD_FILE"
    )
    result = run_cli("settings", env={"AUTOCONFIG_LDAP_URL": "ldaps://cn=admin:pw-s3cret@l:1"})
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "pw-s3cret" not in result.stdout + result.stderr


# --- check: the base is a DN and the filter a filter, placeholders filled in ----------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("base", "ou=people,,dc=uni,dc=example",
         "directory.base: expected a DN (RFC 4514): special character , must be escaped;"
         " got 'ou=people,,dc=uni,dc=example'"),
        ("base", "people",
         "directory.base: expected a DN (RFC 4514): attribute type not present; got 'people'"),
        ("filter", "(|(mail=%EMAILADDRESS%)(bad attr=x))",
         "directory.filter: expected an LDAP filter (RFC 4515): 'bad attr' is no attribute;"
         " got '(|(mail=%EMAILADDRESS%)(bad attr=x))' (with the placeholders filled in:"
         " '(|(mail=jane.doe@example.org)(bad attr=x))')"),
        ("filter", r"(mail=%EMAILADDRESS%\zz)",
         r"directory.filter: expected \ followed by two hex digits (RFC 4515 section 3);"
         r" got '(mail=%EMAILADDRESS%\\zz)' (with the placeholders filled in:"
         r" '(mail=jane.doe@example.org\\zz)')"),
        ("filter", "(mail=%EMAILADDRESS%)(uid=%EMAILLOCALPART%)",
         "directory.filter: expected an LDAP filter (RFC 4515): missing boolean operator in"
         " filter; got '(mail=%EMAILADDRESS%)(uid=%EMAILLOCALPART%)' (with the placeholders"
         " filled in: '(mail=jane.doe@example.org)(uid=jane.doe)')"),
    ],
)
def test_check_refuses_a_base_that_is_no_dn_and_a_filter_that_is_no_filter(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    original = (FILES / "uni.example.yaml").read_text()
    line = {"base": "  base: ou=people,dc=uni,dc=example",
            "filter": "  filter: (mail=%EMAILADDRESS%)"}[key]
    assert line in original
    (tmp_path / "uni.example.yaml").write_text(original.replace(line, f"  {key}: '{value}'"))
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    number = 1 + original.splitlines().index(line)
    # findings come in file and line order: the error among the PACC warnings
    assert f"{tmp_path}/uni.example.yaml:{number}: {message}" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].endswith("1 domains served, 1 errors, 2 warnings")


def test_check_passes_the_shipped_test_file() -> None:
    result = run_cli("check", str(FILES))
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].endswith("0 errors, 2 warnings")  # PACC's


# --- /healthz: the directory's state, green all the same -----------------------------------


def test_healthz_says_when_the_directory_has_failed_for_more_than_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {"AUTOCONFIG_RELOAD_INTERVAL": "0", "AUTOCONFIG_CACHE_DIR": "off",
           "AUTOCONFIG_LDAP_URL": f"ldap://127.0.0.1:{free_port()}",  # nobody listens
           "AUTOCONFIG_LDAP_BIND_PASSWORD": "pw-s3cret"}
    settings = Settings.from_env(env).with_domains(FILES)
    app = create_app(settings)
    assert settings.ldap is not None
    clock = Clock()
    directory = Directory(settings.ldap, clock=clock)
    services = dataclasses.replace(app.services, directory=directory)
    config = services.store.snapshot.registry.lookup("uni.example")
    assert config is not None and config.directory is not None
    ask = Ask("GET", "/healthz")

    def body() -> dict[str, object]:
        answer = healthz(ask, services)
        assert answer.status == 200
        return json.loads(answer.body)  # type: ignore[no-any-return]

    assert body()["directory"] == {"status": "answering"}
    assert directory.find(config.directory, parse_address("jane.doe@uni.example")) is None
    clock.now += 59
    assert body()["directory"] == {"status": "failing", "seconds": 59, "kind": "connection"}
    assert not [r for r in caplog.records if "more than" in r.getMessage()]
    clock.now += 2
    assert body()["directory"] == {
        "status": "failing for more than a minute", "seconds": 61, "kind": "connection",
    }
    assert body()["status"] == "ok"
    long = [r.getMessage() for r in caplog.records if "more than" in r.getMessage()]
    assert long == [
        f"directory {settings.ldap.url} has failed for more than 60 s (connection:"
        " LDAPSocketOpenError: socket connection error while opening: [Errno 111] Connection"
        " refused); still answering with the domain files' login names"
    ]
    assert "pw-s3cret" not in caplog.text
    directory.close()
