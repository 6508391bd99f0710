"""Failures stay where they belong, against a real slapd (StartTLS, test CA) and the
installed server: one domain's bad base or filter leaves another's logins intact, a
wrong password is reported at start, tricky entries match only themselves, and the
operator sees it all in the log, /healthz and /metrics without ever seeing the password.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path

import pytest
from lxml import etree

from autoconfig.address import parse_address
from autoconfig.directory import Directory, Person
from autoconfig.domains.records import DirectorySearch
from autoconfig.pox import NS_OUTLOOK_RESPONSE
from autoconfig.settings import Settings
from tests.support.cli import run_cli
from tests.support.directory import (
    PEOPLE,
    ROOT_PASSWORD,
    SUFFIX,
    RunningDirectory,
)
from tests.support.http import Reply, request
from tests.support.installed import run_installed
from tests.support.paths import TEST_DATA
from tests.support.pki import make_pki
from tests.support.pox_requests import autodiscover_request
from tests.support.server import RunningServer, run_server

pytestmark = [
    pytest.mark.filterwarnings("ignore:tagMap is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:typeMap is deprecated:DeprecationWarning"),
]

NS = {"r": NS_OUTLOOK_RESPONSE}
# Entries a hostile or careless directory holds: a mail that is a placeholder's text,
# the mail the old two-pass filling made of it, and a staff unit for a second domain.
TRICKY = f"""dn: uid=placeholder,{PEOPLE}
objectClass: inetOrgPerson
uid: placeholder
cn: Percent Sign
sn: Sign
mail: %EMAILDOMAIN%@uni.example

dn: uid=not-me,{PEOPLE}
objectClass: inetOrgPerson
uid: not-me
cn: Not Me
sn: Me
mail: uni.example@uni.example

dn: ou=staff,{SUFFIX}
objectClass: organizationalUnit
ou: staff

dn: uid=boss,ou=staff,{SUFFIX}
objectClass: inetOrgPerson
uid: boss
cn: The Boss
sn: Boss
mail: boss@staff.example
"""
GOOD = DirectorySearch(PEOPLE, "(mail=%EMAILADDRESS%)", "uid", "displayName")
NO_SUCH_BASE = DirectorySearch(f"ou=nowhere,{SUFFIX}", "(mail=%EMAILADDRESS%)", "uid")
INVALID_BASE = DirectorySearch("ou=people,,dc=uni", "(mail=%EMAILADDRESS%)", "uid")
INVALID_FILTER = DirectorySearch(PEOPLE, "(mail=%EMAILADDRESS%)(uid=x)", "uid")
STAFF_FILE = """name: Staff
domains: [staff.example]
incoming:
  - {protocol: imap, host: imap.staff.example, security: tls, username: "%EMAILADDRESS%"}
outgoing:
  - {protocol: smtp, host: smtp.staff.example, security: tls, username: "%EMAILADDRESS%"}
directory:
  base: ou=staff,dc=uni,dc=example
  login_attribute: uid
"""


@pytest.fixture(scope="module")
def directory(directory: RunningDirectory) -> RunningDirectory:
    """The shared directory (tests/conftest.py), with the tricky entries added."""
    directory.server.ldapadd(TRICKY)
    return directory


def domains(tmp_path: Path, staff_base: str = "ou=staff,dc=uni,dc=example") -> Path:
    """uni.example (the test file) and staff.example, whose base may be made wrong."""
    folder = tmp_path / "domains"
    folder.mkdir(parents=True)
    (folder / "uni.example.yaml").write_text((TEST_DATA / "directory/uni.example.yaml").read_text())
    (folder / "staff.example.yaml").write_text(
        STAFF_FILE.replace("base: ou=staff,dc=uni,dc=example", f"base: '{staff_base}'")
    )
    return folder


def new_directory(running: RunningDirectory, **env: str) -> Directory:
    settings = Settings.from_env(running.env(**env)).ldap
    assert settings is not None
    return Directory(settings)


def logins(reply: Reply | str) -> list[str]:
    if isinstance(reply, Reply):
        assert reply.status == 200, reply.body
    body = reply.body if isinstance(reply, Reply) else reply.encode()
    return etree.fromstring(body).xpath("//r:LoginName/text()", namespaces=NS)


def pox(server: RunningServer, address: str) -> Reply:
    return request(server.base, "/autodiscover/autodiscover.xml", method="POST",
                   body=autodiscover_request(address), headers={"Content-Type": "text/xml"})


# --- one file's mistake is that file's ------------------------------------------------------


@pytest.mark.parametrize("broken", [NO_SUCH_BASE, INVALID_BASE, INVALID_FILTER],
                         ids=["no such base", "invalid DN", "invalid filter"])
def test_a_bad_search_answers_not_found_for_its_file_only_and_is_logged_once(
    directory: RunningDirectory, caplog: pytest.LogCaptureFixture, broken: DirectorySearch
) -> None:
    caplog.set_level(logging.INFO, "autoconfig")
    found = new_directory(directory, AUTOCONFIG_LDAP_RETRY_AFTER="60")
    try:
        for index in range(5):
            assert found.find(broken, parse_address(f"u{index}@uni.example"), "bad.yaml") is None
            # the other domain's lookups go on, at once, in the same worker
            assert found.find(GOOD, parse_address("jane.doe@uni.example")) == Person(
                "jdoe", "Jane Doe"
            )
            assert found.find(GOOD, parse_address(f"ghost{index}@uni.example")) is None
        assert found.status().kind is None  # the endpoint is fine
    finally:
        found.close()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1, messages
    assert messages[0].startswith(
        f"bad.yaml: directory: the search under {broken.base} with {broken.filter} fails ("
    )
    assert messages[0].endswith(
        "; a configuration problem of this file only: its users get its login names"
        " ('autoconfig check' validates base and filter)"
    )
    assert caplog.records[0].levelname == "ERROR"


def test_placeholders_and_wildcards_in_the_address_match_only_themselves(
    directory: RunningDirectory,
) -> None:
    found = new_directory(directory)
    try:
        # the old two-pass filling searched mail=uni.example@uni.example: uid not-me
        assert found.find(GOOD, parse_address("%EMAILDOMAIN%@uni.example")) == Person(
            "placeholder", None
        )
        assert found.find(GOOD, parse_address("uni.example@uni.example")) == Person("not-me")
        assert found.find(GOOD, parse_address("*@uni.example")) is None
        assert found.find(GOOD, parse_address("%EMAILLOCALPART%@uni.example")) is None
        by_local = DirectorySearch(PEOPLE, "(&(mail=%EMAILLOCALPART%@*)(objectClass=*))", "uid")
        assert found.find(by_local, parse_address("%EMAILDOMAIN%@staff.example")) == Person(
            "placeholder"
        )
        assert found.find(by_local, parse_address("uni.example@staff.example")) == Person(
            "not-me"
        )
    finally:
        found.close()


def test_the_server_keeps_one_domains_logins_while_anothers_base_is_missing(
    directory: RunningDirectory, tmp_path: Path
) -> None:
    folder = domains(tmp_path, staff_base=f"ou=gone,{SUFFIX}")
    env = directory.env(AUTOCONFIG_LDAP_RETRY_AFTER="60")
    with run_server(folder, tmp_path / "server.log", env=env, workers=1) as server:
        for index in range(3):
            assert logins(pox(server, f"boss{index}@staff.example")) == [
                f"boss{index}@staff.example"
            ] * 2
            assert logins(pox(server, "jane.doe@uni.example")) == ["jdoe", "jdoe"]
            assert logins(pox(server, "max@uni.example")) == ["mmuster", "mmuster"]
        # the template path fills in one pass too (two passes gave staff.examplex@…)
        assert logins(pox(server, "%EMAILDOMAIN%x@staff.example")) == [
            "%EMAILDOMAIN%x@staff.example"
        ] * 2
        log = server.log()
        health = json.loads(request(server.base, "/healthz").body)
        metrics = request(server.base, "/metrics").text
    assert health["directory"] == {"status": "answering"}
    assert health["status"] == "ok"
    # the bind test at start read the bases: one warning for the missing one
    assert f"directory ldap://127.0.0.1:{directory.port}: base ou=gone,{SUFFIX} of" in log
    assert log.count("a configuration problem of this file only") == 1
    assert "failed (" not in log  # no endpoint back-off
    assert 'autoconfig_directory_errors_total{kind="configuration"} 1.0' in metrics
    assert 'autoconfig_directory_errors_total{kind="timeout"} 0.0' in metrics
    assert 'autoconfig_directory_lookups_total{result="found"} 6.0' in metrics
    assert 'autoconfig_directory_lookups_total{result="misconfigured"} 4.0' in metrics
    assert 'autoconfig_directory_cache_total{result="hit"} 4.0' in metrics
    assert "autoconfig_directory_lookup_seconds_count" in metrics
    assert ROOT_PASSWORD not in log + metrics


# --- the operator hears of a wrong password at start, and never sees it -----------------------


def test_a_wrong_password_is_reported_at_start_not_fatal_and_never_shown(
    directory: RunningDirectory, tmp_path: Path
) -> None:
    wrong = "wrong-pw-4711"
    env = directory.env(AUTOCONFIG_LDAP_BIND_PASSWORD=wrong)
    with run_server(domains(tmp_path), tmp_path / "server.log", env=env, workers=1) as server:
        assert logins(pox(server, "jane.doe@uni.example")) == ["jane.doe", "jane.doe"]
        log = server.log()
    start = log.index("Listening at") if "Listening at" in log else len(log)
    assert (
        f"directory ldap://127.0.0.1:{directory.port}: the bind test at start failed (bind:"
        " LDAPInvalidCredentialsResult" in log[:start]
    )
    assert wrong not in log
    settings = run_cli("settings", env=env)
    assert wrong not in settings.stdout + settings.stderr


def test_check_online_reads_the_bases(directory: RunningDirectory, tmp_path: Path) -> None:
    folder = domains(tmp_path, staff_base=f"ou=gone,{SUFFIX}")
    result = run_cli("check", "--online", str(folder), env=directory.env())
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if "directory.base" in line]
    assert errors == [  # slapd names the part of the base that exists (RFC 4511 4.1.9)
        f"{folder}/staff.example.yaml: directory.base: cannot be searched:"
        " LDAPNoSuchObjectResult: LDAPNoSuchObjectResult - 32 - noSuchObject -"
        f" {SUFFIX} - None - searchResDone - None"
    ]
    good = run_cli("check", "--online", str(domains(tmp_path / "ok")), env=directory.env())
    assert good.returncode == 0, good.stdout
    down = run_cli("check", "--online", str(domains(tmp_path / "down")),
                   env=directory.env(**{"AUTOCONFIG_LDAP_BIND_PASSWORD": "nope"}))
    assert down.returncode == 1
    assert f"ldap://127.0.0.1:{directory.port}: the directory fails (bind:" in down.stdout


# --- render answers as the server does --------------------------------------------------------


def test_render_asks_the_directory_when_one_is_configured(directory: RunningDirectory) -> None:
    files = str(TEST_DATA / "directory")
    with_directory = run_installed("render", "outlook", "jane.doe@uni.example", "--domains",
                                   files, env=directory.env())
    assert with_directory.returncode == 0, with_directory.stderr
    assert logins(with_directory.stdout) == ["jdoe", "jdoe"]
    thunderbird = run_installed("render", "thunderbird", "jane.doe@uni.example", "--domains",
                                files, env=directory.env())
    assert "<username>jdoe</username>" in thunderbird.stdout
    apple = run_installed("render", "apple", "jane.doe@uni.example", "--domains", files,
                          env=directory.env())
    assert apple.returncode == 0, apple.stderr
    assert "<string>Jane Doe</string>" in apple.stdout
    without = run_installed("render", "outlook", "jane.doe@uni.example", "--domains", files,
                            env={"AUTOCONFIG_LDAP_URL": ""})
    assert logins(without.stdout) == ["jane.doe", "jane.doe"]


@pytest.mark.parametrize("fault", ["refused", "other CA", "wrong password", "hung"])
def test_the_password_appears_in_no_log_line_and_no_status(
    directory: RunningDirectory, caplog: pytest.LogCaptureFixture, tmp_path: Path, fault: str
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "pw-Zq8-" + fault.replace(" ", "-")
    env = {"AUTOCONFIG_LDAP_BIND_PASSWORD": secret, "AUTOCONFIG_LDAP_TIMEOUT": "0.5"}
    if fault == "refused":
        env["AUTOCONFIG_LDAP_URL"] = f"ldap://127.0.0.1:{directory.ldaps_port + 1}"
    if fault == "other CA":
        env["AUTOCONFIG_LDAP_CA_FILE"] = str(make_pki(tmp_path, ["ldap.uni.example"]).ca)
    found = new_directory(directory, **env)
    pid = directory.server._proc.pid
    if fault == "hung":
        os.kill(pid, signal.SIGSTOP)
    try:
        failure, _ = found.try_bind([PEOPLE])
        assert found.find(GOOD, parse_address("jane.doe@uni.example")) is None
        status = found.status()
    finally:
        if fault == "hung":
            os.kill(pid, signal.SIGCONT)
        found.close()
    assert failure is not None
    expected = {"refused": "connection", "other CA": "tls", "wrong password": "bind",
                "hung": "timeout"}[fault]
    assert (failure.kind, status.kind) == (expected, expected)
    assert secret not in f"{failure} {status} {caplog.text}"
    logged = [r.getMessage() for r in caplog.records if r.name == "autoconfig"]
    assert logged[0].startswith(f"directory {found.url} failed ({expected}: "), logged


def test_a_base_created_later_is_found_without_a_restart(
    directory: RunningDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "autoconfig")
    later = DirectorySearch(f"ou=later,{SUFFIX}", "(mail=%EMAILADDRESS%)", "uid")
    found = new_directory(directory, AUTOCONFIG_LDAP_RETRY_AFTER="0.3")
    try:
        assert found.find(later, parse_address("late@uni.example"), "later.yaml") is None
        directory.server.ldapadd(
            f"dn: ou=later,{SUFFIX}\nobjectClass: organizationalUnit\nou: later\n\n"
            f"dn: uid=late,ou=later,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: late\n"
            "cn: Late\nsn: Late\nmail: late@uni.example\n"
        )
        # suspended for AUTOCONFIG_LDAP_RETRY_AFTER, then asked again
        assert found.find(later, parse_address("late@uni.example"), "later.yaml") is None
        time.sleep(0.4)
        assert found.find(later, parse_address("late@uni.example"), "later.yaml") == Person("late")
    finally:
        found.close()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[1] == f"later.yaml: directory: the search under ou=later,{SUFFIX} works again"
