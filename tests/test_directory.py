"""Per-user login names from a real directory: Debian's slapd on loopback, StartTLS with a
test CA, and the server from the installed wheel (with the ldap extra).

tests/data/directory/uni.example.yaml says: look the address up in mail, take uid as
the login name and displayName as the person's name; without a directory answer, the
login is the template %EMAILLOCALPART%.
"""

from __future__ import annotations

import json
import logging
import plistlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from autoconfig.address import parse_address
from autoconfig.directory import Directory, Person
from autoconfig.directory.search import search_filter
from autoconfig.domains.records import DirectorySearch
from autoconfig.pox import NS_MOBILESYNC_RESPONSE, NS_OUTLOOK_RESPONSE
from autoconfig.settings import Settings, SettingsError
from tests.support.apple_schema import profile_problems
from tests.support.cli import run_cli
from tests.support.directory import PEOPLE, UNNAMED_ADDRESS, RunningDirectory
from tests.support.http import Reply, request
from tests.support.nginx import RunningNginx, https_request, run_nginx
from tests.support.paths import TEST_DATA
from tests.support.pki import LoopbackPKI, make_pki
from tests.support.pox_requests import autodiscover_request
from tests.support.server import RunningServer, run_server
from tests.support.thunderbird_reader import read_autodiscover_pox, read_client_config

# ldap3 2.9.1 (2021) still reads pyasn1's tagMap/typeMap, which pyasn1 0.6 deprecates.
pytestmark = [
    pytest.mark.filterwarnings("ignore:tagMap is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:typeMap is deprecated:DeprecationWarning"),
]

FILES = TEST_DATA / "directory"
SEARCH = DirectorySearch(PEOPLE, "(mail=%EMAILADDRESS%)", "uid", "displayName")
NS = {"r": NS_OUTLOOK_RESPONSE, "m": NS_MOBILESYNC_RESPONSE}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, directory: RunningDirectory
) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    with run_server(FILES, log, env=directory.env()) as running:
        yield running


def lookup(directory: RunningDirectory, address: str, **env: str) -> Person | None:
    settings = Settings.from_env(directory.env(**env)).ldap
    assert settings is not None
    found = Directory(settings)
    try:
        return found.find(SEARCH, parse_address(address))
    finally:
        found.close()


def post(server: RunningServer, body: bytes) -> Reply:
    return request(server.base, "/autodiscover/autodiscover.xml", method="POST", body=body,
                   headers={"Content-Type": "text/xml"})


def thunderbird(server: RunningServer, query: str = "", host: str | None = None) -> Reply:
    headers = {"Host": host} if host else None
    return request(server.base, f"/mail/config-v1.1.xml{query}", headers=headers)


# --- the lookup itself, against slapd ---------------------------------------------------------


def test_the_login_is_the_uid_not_the_address(directory: RunningDirectory) -> None:
    assert lookup(directory, "jane.doe@uni.example") == Person("jdoe", "Jane Doe")
    assert lookup(directory, "zoe@uni.example") == Person("zoe", "Zoë Ölmann")


def test_two_uid_values_give_the_first_one_the_directory_lists(
    directory: RunningDirectory,
) -> None:
    assert lookup(directory, "max@uni.example") == Person("mmuster", None)


def test_an_unknown_address_has_no_login(directory: RunningDirectory) -> None:
    assert lookup(directory, "nobody@uni.example") is None


def test_the_address_is_escaped_in_the_filter(directory: RunningDirectory) -> None:
    escape = Directory.__init__.__globals__["import_ldap3"]().utils.conv.escape_filter_chars
    address = parse_address("*@uni.example")
    assert search_filter(SEARCH, address, escape) == r"(mail=\2a@uni.example)"
    # unescaped, (mail=*@uni.example) would match all three users
    assert lookup(directory, "*@uni.example") is None
    search = DirectorySearch(PEOPLE, "(&(uid=%EMAILLOCALPART%)(objectClass=*))", "uid")
    assert search_filter(search, parse_address("a*b@x.example"), escape) == (
        r"(&(uid=a\2ab)(objectClass=*))"
    )


def test_a_wrong_bind_password_gives_no_login_and_one_log_line(
    directory: RunningDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "autoconfig")
    wrong = {"AUTOCONFIG_LDAP_BIND_PASSWORD": "wrong"}
    settings = Settings.from_env(directory.env(**wrong)).ldap
    assert settings is not None
    found = Directory(settings)
    assert [found.find(SEARCH, parse_address("jane.doe@uni.example")) for _ in range(3)] == [
        None, None, None,
    ]
    assert [r.getMessage() for r in caplog.records] == [
        f"directory ldap://127.0.0.1:{directory.port} failed (bind: LDAPInvalidCredentialsResult:"
        " LDAPInvalidCredentialsResult - 49 - invalidCredentials - None - None - bindResponse"
        " - None); answering with the domain files' login names until it is back"
    ]


def test_tls_is_verified_against_the_ca_and_the_host_name(
    directory: RunningDirectory, tmp_path: Path
) -> None:
    other_ca = make_pki(tmp_path / "other", ["ldap.uni.example"]).ca
    assert lookup(directory, "jane.doe@uni.example", AUTOCONFIG_LDAP_CA_FILE=str(other_ca)) is None
    # the certificate names ldap.uni.example and 127.0.0.1, not 127.0.0.2
    url = f"ldap://{UNNAMED_ADDRESS}:{directory.unnamed_port}"
    assert lookup(directory, "jane.doe@uni.example", AUTOCONFIG_LDAP_URL=url) is None
    assert lookup(directory, "jane.doe@uni.example") == Person("jdoe", "Jane Doe")


def test_ldaps_works_as_starttls_does(directory: RunningDirectory) -> None:
    url = f"ldaps://127.0.0.1:{directory.ldaps_port}"
    assert lookup(directory, "jane.doe@uni.example", AUTOCONFIG_LDAP_URL=url) == Person(
        "jdoe", "Jane Doe"
    )
    # the LDAPS port speaks TLS at once: a StartTLS client (ldap://) gets nothing there
    plain = f"ldap://127.0.0.1:{directory.ldaps_port}"
    assert lookup(directory, "jane.doe@uni.example", AUTOCONFIG_LDAP_URL=plain) is None


def test_answers_are_cached_found_and_not_found(directory: RunningDirectory) -> None:
    settings = Settings.from_env(directory.env(AUTOCONFIG_LDAP_RETRY_AFTER="60")).ldap
    assert settings is not None
    found = Directory(settings)
    jane, nobody = parse_address("jane.doe@uni.example"), parse_address("ghost@uni.example")
    assert found.find(SEARCH, jane) == Person("jdoe", "Jane Doe")
    assert found.find(SEARCH, nobody) is None
    directory.stop()
    try:
        started = time.monotonic()
        assert found.find(SEARCH, jane) == Person("jdoe", "Jane Doe")  # from the cache
        assert found.find(SEARCH, nobody) is None  # cached "not found"
        assert found.find(SEARCH, parse_address("new@uni.example")) is None  # directory down
        assert time.monotonic() - started < 1.0
    finally:
        directory.start()
        found.close()


# --- settings ----------------------------------------------------------------------------


def test_the_bind_password_comes_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "bind-password"
    secret.write_text("s3cret\n")
    settings = Settings.from_env({
        "AUTOCONFIG_LDAP_URL": "ldaps://ldap.uni.example",
        "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE": str(secret),
    }).ldap
    assert settings is not None
    assert (settings.host, settings.port, settings.use_ssl, settings.bind_password) == (
        "ldap.uni.example", 636, True, "s3cret",
    )
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUTOCONFIG_LDAP_URL": "http://ldap.uni.example"},
         "AUTOCONFIG_LDAP_URL: expected ldaps://HOST[:PORT] or ldap://HOST[:PORT];"
         " got 'http://ldap.uni.example'"),
        ({"AUTOCONFIG_LDAP_URL": "ldap://ldap.uni.example/dc=uni"},
         "AUTOCONFIG_LDAP_URL: expected ldaps://HOST[:PORT] or ldap://HOST[:PORT];"
         " got 'ldap://ldap.uni.example/dc=uni'"),
        ({"AUTOCONFIG_LDAP_URL": "ldaps://l", "AUTOCONFIG_LDAP_BIND_PASSWORD": "a",
          "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE": __file__},  # readable: only both are wrong
         "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE and AUTOCONFIG_LDAP_BIND_PASSWORD are both set;"
         " keep one"),
        ({"AUTOCONFIG_LDAP_URL": "ldaps://l", "AUTOCONFIG_LDAP_CA_FILE": "/no/such/ca.pem"},
         "AUTOCONFIG_LDAP_CA_FILE: /no/such/ca.pem is not a file"),
    ],
)
def test_unusable_settings_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == message


def test_settings_command_lists_the_directory_with_the_password_masked() -> None:
    env = {"AUTOCONFIG_LDAP_URL": "ldaps://ldap.uni.example:6360",
           "AUTOCONFIG_LDAP_BIND_PASSWORD": "s3cret", "AUTOCONFIG_LDAP_POOL_SIZE": "2"}
    result = run_cli("settings", env=env)
    assert result.returncode == 0, result.stderr
    ldap_lines = [line for line in result.stdout.splitlines() if "_LDAP_" in line]
    assert ldap_lines == [
        "AUTOCONFIG_LDAP_URL=ldaps://ldap.uni.example:6360",
        "AUTOCONFIG_LDAP_CA_FILE=  (default)",
        "AUTOCONFIG_LDAP_BIND_DN=  (default)",
        "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE=  (default)",
        "AUTOCONFIG_LDAP_BIND_PASSWORD=**********",
        "AUTOCONFIG_LDAP_TIMEOUT=2.0  (default)",
        "AUTOCONFIG_LDAP_CACHE_TTL=300.0  (default)",
        "AUTOCONFIG_LDAP_NEGATIVE_TTL=60.0  (default)",
        "AUTOCONFIG_LDAP_RETRY_AFTER=10.0  (default)",
        "AUTOCONFIG_LDAP_POOL_SIZE=2",
    ]
    refused = run_cli("settings", env={**env, "AUTOCONFIG_LDAP_POOL_SIZE": "0"})
    assert (refused.returncode, refused.stderr) == (
        1, "Error: AUTOCONFIG_LDAP_POOL_SIZE: expected an integer ≥ 1; got '0'\n"
    )


def test_without_the_extra_a_configured_directory_is_refused_in_one_line(
    directory: RunningDirectory,
) -> None:
    # ldap3 missing, as on an install without mail-autoconfig[ldap]: an import that fails
    code = (
        "import sys; sys.modules['ldap3'] = None\n"
        "from autoconfig.cli import main\n"
        "main(['serve', '--domains', sys.argv[1]])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(FILES)], capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", **directory.env()}, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: AUTOCONFIG_LDAP_URL is set, but LDAP support is not installed:"
        " pip install 'mail-autoconfig[ldap]'"
    )


def test_check_refuses_a_filter_without_the_user(tmp_path: Path) -> None:
    text = (FILES / "uni.example.yaml").read_text().replace(
        "filter: (mail=%EMAILADDRESS%)", "filter: (objectClass=person)"
    )
    (tmp_path / "uni.example.yaml").write_text(text)
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{tmp_path}/uni.example.yaml:16: directory.filter: expected the user in the filter:"
        " one of %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%; got '(objectClass=person)'"
    )


# --- the server, where clients send the address and where they do not --------------------


def test_outlook_gets_the_users_login(server: RunningServer) -> None:
    reply = post(server, autodiscover_request("jane.doe@uni.example"))
    document = etree.fromstring(reply.body)
    assert document.xpath("//r:Protocol/r:LoginName/text()", namespaces=NS) == ["jdoe", "jdoe"]
    result = read_autodiscover_pox(reply.body)
    # Thunderbird: the EXCH entry becomes its first server with its own default login
    # (it reads no LoginName there); the IMAP alternative has the user's
    assert [(s.type, s.username) for s in result.incoming] == [
        ("exchange", "%EMAILADDRESS%"), ("imap", "jdoe"),
    ]


def test_activesync_gets_the_persons_name(server: RunningServer) -> None:
    reply = post(server, autodiscover_request("zoe@uni.example", mobilesync=True))
    document = etree.fromstring(reply.body)
    assert document.xpath("//m:User/m:DisplayName/text()", namespaces=NS) == ["Zoë Ölmann"]


def test_thunderbird_with_the_address_gets_the_login_and_no_shared_caching(
    server: RunningServer,
) -> None:
    reply = thunderbird(server, "?emailaddress=jane.doe@uni.example")
    assert reply.header("Cache-Control") == "private, no-store"
    config = read_client_config(reply.body, version=150)
    assert [(s.type, s.username) for s in config.incoming] == [("imap", "jdoe"), ("ews", "jdoe")]


def test_thunderbird_without_the_address_gets_the_template(server: RunningServer) -> None:
    reply = thunderbird(server, host="autoconfig.uni.example")
    assert reply.header("Cache-Control") == "public, max-age=3600"
    config = read_client_config(reply.body)
    assert [s.username for s in config.incoming] == ["%EMAILLOCALPART%"]


def test_an_unknown_address_gets_the_template_with_the_same_status(server: RunningServer) -> None:
    known = post(server, autodiscover_request("jane.doe@uni.example"))
    unknown = post(server, autodiscover_request("ghost@uni.example"))
    assert (known.status, unknown.status) == (200, 200)
    document = etree.fromstring(unknown.body)
    assert document.xpath("//r:Protocol/r:LoginName/text()", namespaces=NS) == ["ghost", "ghost"]


def test_the_apple_profile_carries_login_and_name(server: RunningServer) -> None:
    reply = request(server.base, "/apple/profile.mobileconfig?emailaddress=jane.doe@uni.example")
    profile = plistlib.loads(reply.body)
    assert profile_problems(profile) == []
    mail = profile["PayloadContent"][0]
    assert (mail["IncomingMailServerUsername"], mail["OutgoingMailServerUsername"],
            mail["EmailAccountName"]) == ("jdoe", "jdoe", "Jane Doe")
    page = request(server.base, "/apple?emailaddress=jane.doe@uni.example").text
    assert "<dt>User name</dt><dd><code>jdoe</code></dd>" in page


def test_a_directory_stopped_mid_run_fails_no_request(
    server: RunningServer, directory: RunningDirectory
) -> None:
    assert json.loads(request(server.base, "/healthz").body)["status"] == "ok"
    directory.stop()
    try:
        statuses = []
        for index in range(20):
            reply = post(server, autodiscover_request(f"someone{index}@uni.example"))
            statuses.append(reply.status)
            login = etree.fromstring(reply.body).xpath("//r:LoginName/text()", namespaces=NS)
            assert login == [f"someone{index}", f"someone{index}"]
        assert statuses == [200] * 20
    finally:
        directory.start()
    time.sleep(1.5)  # AUTOCONFIG_LDAP_RETRY_AFTER=1: the next request asks again
    reply = post(server, autodiscover_request("max@uni.example"))
    assert etree.fromstring(reply.body).xpath("//r:LoginName/text()", namespaces=NS) == [
        "mmuster", "mmuster",
    ]
    failures = [line for line in server.log().splitlines() if "failed (" in line]
    assert 1 <= len(failures) <= 2  # one line per worker process that noticed
    assert failures[0].endswith(
        f"autoconfig: directory ldap://127.0.0.1:{directory.port} failed (connection:"
        " LDAPSocketOpenError: socket connection error while opening: [Errno 111] Connection"
        " refused); answering with the domain files' login names until it is back"
    )
    assert f"directory ldap://127.0.0.1:{directory.port} answers again" in server.log()
    assert "Traceback" not in server.log()


# --- through nginx: a per-user answer is never served to another user -----------------------


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, server: RunningServer
) -> Iterator[tuple[RunningNginx, LoopbackPKI]]:
    prefix = tmp_path_factory.mktemp("nginx")
    pki = make_pki(prefix / "pki", ["autoconfig.uni.example"])
    upstream = server.base.removeprefix("http://")
    with run_nginx(prefix, pki=pki, backends=[upstream]) as nginx:
        yield nginx, pki


def test_nginx_never_stores_a_per_user_answer(site: tuple[RunningNginx, LoopbackPKI]) -> None:
    nginx, pki = site

    def fetch(query: str) -> Reply:
        return https_request(nginx.https_port, "autoconfig.uni.example",
                             f"/mail/config-v1.1.xml{query}", ca=pki.ca)

    replies = [fetch(f"?emailaddress={a}@uni.example") for a in ("jane.doe", "max", "jane.doe")]
    assert [read_client_config(r.body).incoming[0].username for r in replies] == [
        "jdoe", "mmuster", "jdoe",
    ]
    assert [r.header("X-Cache-Status") for r in replies] == ["MISS", "MISS", "MISS"]
    # the domain's template (no address) is still micro-cached
    template = [fetch(""), fetch("")]
    assert [r.header("X-Cache-Status") for r in template] == ["MISS", "HIT"]
    assert read_client_config(template[1].body).incoming[0].username == "%EMAILLOCALPART%"
