"""Apple profiles: Apple's schema, stable identity, the auth mapping, and bad input.

The renderer is checked as a pure function over the bundled domains and hand-made
records; the endpoint through the real server (gunicorn) and the CLI.
"""

from __future__ import annotations

import plistlib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from autoconfig.address import EmailAddress, parse_address
from autoconfig.domains.records import Auth, DomainConfig, Protocol, Security, Server
from autoconfig.domains.registry import load_directory
from autoconfig.render.mobileconfig import (
    ProfileOptions,
    ProfileRequestError,
    build_profile,
    payload_uuid,
    prepared_profiles,
    render_domain_mobileconfig,
    render_mobileconfig,
)
from tests.support.apple_schema import profile_problems
from tests.support.cli import run_cli
from tests.support.http import request
from tests.support.paths import DOMAINS
from tests.support.server import RunningServer

PREFIX = "org.autoconfig.profile"
PROFILE = "/apple/profile.mobileconfig"
BUNDLED = load_directory(DOMAINS)


def config(domain: str) -> DomainConfig:
    found = BUNDLED.lookup(domain)
    assert found is not None, domain
    return found


def profile_of(domain_config: DomainConfig, address: str, **options: Any) -> dict[str, Any]:
    body = render_mobileconfig(
        domain_config, parse_address(address), ProfileOptions(PREFIX, **options)
    )
    loaded: dict[str, Any] = plistlib.loads(body)
    return loaded


def mail_payload(profile: dict[str, Any]) -> dict[str, Any]:
    (mail,) = [p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.mail.managed"]
    return mail


def server(auth: tuple[Auth, ...], protocol: Protocol = Protocol.IMAP) -> Server:
    port = {Protocol.IMAP: 993, Protocol.POP3: 995, Protocol.SMTP: 465}[protocol]
    return Server(protocol, "mail.test.example", port, Security.TLS, auth, "%EMAILLOCALPART%")


def record(auth: tuple[Auth, ...], **extra: Any) -> DomainConfig:
    return DomainConfig(
        source="test.yaml", name="Test Mail", short_name=None, domains=("test.example",),
        incoming=(server(auth),), outgoing=(server(auth, Protocol.SMTP),), **extra,
    )


CASES = [
    (address, protocol)
    for address in ("alice@example.com", "Bob.Smith@example.org", "user@customer-one.example",
                    "jürgen@bücher.example")
    for protocol in (None, Protocol.IMAP, Protocol.POP3)
    if protocol is None or config(parse_address(address).domain).incoming_of(protocol)
]


# --- Apple's schema -------------------------------------------------------------------

@pytest.mark.parametrize(("address", "protocol"), CASES)
def test_every_bundled_profile_matches_apples_schema(
    address: str, protocol: Protocol | None
) -> None:
    domain_config = config(parse_address(address).domain)
    profile = profile_of(domain_config, address, protocol=protocol, account_name="Ann Example")
    assert profile_problems(profile) == []
    mail = mail_payload(profile)
    chosen = protocol or domain_config.incoming[0].protocol
    assert mail["EmailAccountType"] == {"imap": "EmailTypeIMAP", "pop3": "EmailTypePOP"}[chosen]
    assert isinstance(mail["IncomingMailServerPortNumber"], int)
    assert isinstance(mail["OutgoingMailServerPortNumber"], int)
    assert mail["IncomingMailServerUseSSL"] is True
    assert mail["OutgoingMailServerUseSSL"] is True
    assert mail["EmailAccountName"] == "Ann Example"
    assert profile["PayloadDisplayName"] == domain_config.name


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m.update(IncomingMailServerPortNumber="993"), "expected <integer>"),
        (lambda m: m.update(OutgoingMailServerUseSSL=1), "expected <boolean>"),
        (lambda m: m.update(EmailAccountType="EmailTypeExchange"), "is not one of"),
        (lambda m: m.update(IncomingPasswrd="x"), "is not a key of this payload"),
        (lambda m: m.pop("IncomingMailServerHostName"), "required key"),
        (lambda m: m.update(PayloadUUID="not-a-uuid"), "is not a UUID"),
        (lambda m: m.update(EmailAccountDescription=""), "empty value"),
    ],
)
def test_the_schema_check_catches_broken_profiles(change: Any, problem: str) -> None:
    profile = profile_of(config("example.com"), "alice@example.com")
    change(mail_payload(profile))
    assert any(problem in found for found in profile_problems(profile))


def test_the_example_profile_has_the_documented_settings() -> None:
    profile = profile_of(config("example.com"), "alice@example.com")
    mail = mail_payload(profile)
    assert mail["IncomingMailServerHostName"] == "mail.example.com"
    assert mail["IncomingMailServerPortNumber"] == 993
    assert mail["OutgoingMailServerPortNumber"] == 465
    assert mail["IncomingMailServerUsername"] == "alice@example.com"
    assert mail["OutgoingPasswordSameAsIncomingPassword"] is True
    assert "EmailAccountName" not in mail
    assert not any("Password" in key and key != "OutgoingPasswordSameAsIncomingPassword"
                   for key in mail)
    kinds = [p["PayloadType"] for p in profile["PayloadContent"]]
    assert kinds == ["com.apple.mail.managed", "com.apple.caldav.account",
                     "com.apple.carddav.account"]
    caldav = profile["PayloadContent"][1]
    assert caldav["CalDAVHostName"] == "dav.example.com"
    assert caldav["CalDAVPort"] == 443
    assert caldav["CalDAVUseSSL"] is True
    assert caldav["CalDAVPrincipalURL"] == "https://dav.example.com/caldav/"


def test_starttls_servers_use_ssl_and_standard_ports() -> None:
    mail = mail_payload(profile_of(config("example.org"), "bob@example.org"))
    assert mail["IncomingMailServerPortNumber"] == 143
    assert mail["IncomingMailServerUseSSL"] is True
    assert mail["OutgoingMailServerPortNumber"] == 587
    assert mail["IncomingMailServerUsername"] == "bob"
    assert mail["IncomingMailServerAuthentication"] == "EmailAuthCRAMMD5"


def test_dav_url_with_port_and_plain_http() -> None:
    profile = profile_of(
        record((Auth.PASSWORD,), caldav="http://dav.test.example:8080/", carddav=None),
        "ann@test.example",
    )
    assert profile_problems(profile) == []
    caldav = profile["PayloadContent"][1]
    assert (caldav["CalDAVHostName"], caldav["CalDAVPort"]) == ("dav.test.example", 8080)
    assert caldav["CalDAVUseSSL"] is False
    assert "CalDAVPrincipalURL" not in caldav


# --- the auth mapping (docs/apple.md#authentication) -----------------------------------

@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ((Auth.PASSWORD,), "EmailAuthPassword"),
        ((Auth.PASSWORD_ENCRYPTED, Auth.PASSWORD), "EmailAuthCRAMMD5"),
        ((Auth.NTLM,), "EmailAuthNTLM"),
        ((Auth.OAUTH2, Auth.PASSWORD_ENCRYPTED), "EmailAuthCRAMMD5"),
        ((Auth.GSSAPI, Auth.NTLM), "EmailAuthNTLM"),
        ((Auth.OAUTH2,), "EmailAuthPassword"),
        ((Auth.GSSAPI,), "EmailAuthPassword"),
        ((Auth.CLIENT_CERT,), "EmailAuthPassword"),
    ],
)
def test_auth_mapping(auth: tuple[Auth, ...], expected: str) -> None:
    mail = mail_payload(profile_of(record(auth), "ann@test.example"))
    assert mail["IncomingMailServerAuthentication"] == expected
    assert mail["OutgoingMailServerAuthentication"] == expected
    assert mail["IncomingMailServerUsername"] == "ann"


def test_no_authentication_sends_no_username() -> None:
    mail = mail_payload(profile_of(record((Auth.NONE,)), "ann@test.example"))
    assert mail["OutgoingMailServerAuthentication"] == "EmailAuthNone"
    assert "OutgoingMailServerUsername" not in mail
    assert "OutgoingPasswordSameAsIncomingPassword" not in mail


# --- stable identity (docs/apple.md#identity) ------------------------------------------

def identities(profile: dict[str, Any]) -> list[tuple[str, str]]:
    return [(profile["PayloadIdentifier"], profile["PayloadUUID"])] + [
        (p["PayloadIdentifier"], p["PayloadUUID"]) for p in profile["PayloadContent"]
    ]


def test_identity_is_derived_from_the_address_and_kind() -> None:
    example = config("example.com")
    first = identities(profile_of(example, "alice@example.com"))
    assert first == identities(profile_of(example, "ALICE@Example.COM", account_name="A"))
    assert first == identities(profile_of(example, "alice@example.com", protocol=Protocol.POP3))
    other = identities(profile_of(example, "bob@example.com"))
    assert not {uid for _, uid in first} & {uid for _, uid in other}
    assert all(identifier.startswith(PREFIX + ".") for identifier, _ in first)
    moved = build_profile(example, parse_address("alice@example.com"),
                          ProfileOptions("com.example.mail"))
    assert moved["PayloadIdentifier"].startswith("com.example.mail.")


def test_same_input_same_bytes() -> None:
    args = (config("example.com"), parse_address("alice@example.com"), ProfileOptions(PREFIX))
    assert render_mobileconfig(*args) == render_mobileconfig(*args)


def test_impossible_options_are_refused() -> None:
    org = config("example.org")
    with pytest.raises(ProfileRequestError, match="offers no POP3 server"):
        render_mobileconfig(org, parse_address("a@example.org"),
                            ProfileOptions(PREFIX, Protocol.POP3))
    with pytest.raises(ProfileRequestError, match="a line break or an invisible character"):
        render_mobileconfig(org, parse_address("a@example.org"),
                            ProfileOptions(PREFIX, account_name="A\nB"))


# --- prepared profiles: the per-user values filled in per request -----------------------


def templated(incoming_login: str, outgoing_login: str, **extra: Any) -> DomainConfig:
    imap = Server(Protocol.IMAP, "imap.%EMAILDOMAIN%", 993, Security.TLS, (Auth.PASSWORD,),
                  incoming_login)
    smtp = Server(Protocol.SMTP, "smtp.test.example", 465, Security.TLS, (Auth.PASSWORD,),
                  outgoing_login)
    return DomainConfig(source="test.yaml", name="Test & <Mail>", short_name=None,
                        domains=("test.example",), incoming=(imap,), outgoing=(smtp,), **extra)


def german(msgid: str) -> str:
    return {"The mail account %(address)s at %(provider)s.":
            "Das Postfach %(address)s bei %(provider)s."}.get(msgid, msgid)


PREPARED_CASES = [
    ("%EMAILADDRESS%", "%EMAILLOCALPART%@test.example"),  # same password only at test.example
    ("x<&>y-%EMAILLOCALPART%", "literal & <literal>"),
    ("tab\there-%EMAILLOCALPART%", "%EMAILADDRESS%"),  # not plain text: built whole
]


@pytest.mark.parametrize(("incoming_login", "outgoing_login"), PREPARED_CASES)
def test_a_prepared_profile_is_the_whole_profile_for_each_user(
    incoming_login: str, outgoing_login: str
) -> None:
    domain = templated(incoming_login, outgoing_login, caldav="https://dav.test.example/",
                       activesync="https://eas.test.example/Microsoft-Server-ActiveSync")
    addresses = [EmailAddress(local, host)
                 for local in ("jane", "J&ne", "jürgen", "x%EMAILDOMAIN%")
                 for host in ("test.example", "customer.example")]
    options = [ProfileOptions(PREFIX), ProfileOptions(PREFIX, account_name="Jane & \"Co\""),
               ProfileOptions(PREFIX, translate=german), ProfileOptions(PREFIX, activesync=True),
               ProfileOptions("com.example.other", Protocol.IMAP)]
    for address in addresses * 2:  # the second round answers from the prepared parts
        for option in options:
            whole = render_mobileconfig(domain, address, option)
            assert render_domain_mobileconfig(domain, address, option) == whole


def test_one_users_profile_never_carries_anothers_values() -> None:
    domain = templated("%EMAILADDRESS%", "%EMAILLOCALPART%")
    jane = render_domain_mobileconfig(domain, EmailAddress("jane", "test.example"),
                                      ProfileOptions(PREFIX, account_name="Jane"))
    john = render_domain_mobileconfig(domain, EmailAddress("john", "test.example"),
                                      ProfileOptions(PREFIX, account_name="John"))
    assert b"jane" not in john.lower()
    assert b"john" not in jane.lower()
    mail = mail_payload(plistlib.loads(john))
    assert (mail["EmailAddress"], mail["IncomingMailServerUsername"],
            mail["OutgoingMailServerUsername"], mail["EmailAccountName"]) == (
        "john@test.example", "john@test.example", "john", "John")


def test_an_edited_record_gets_its_own_prepared_profile() -> None:
    address = EmailAddress("jane", "test.example")
    before = templated("%EMAILADDRESS%", "%EMAILLOCALPART%")
    old_profile = render_domain_mobileconfig(before, address, ProfileOptions(PREFIX))
    after = templated("%EMAILLOCALPART%", "%EMAILLOCALPART%")
    new_profile = render_domain_mobileconfig(after, address, ProfileOptions(PREFIX))
    assert mail_payload(plistlib.loads(new_profile))["IncomingMailServerUsername"] == "jane"
    assert new_profile == render_mobileconfig(after, address, ProfileOptions(PREFIX))
    assert render_domain_mobileconfig(before, address, ProfileOptions(PREFIX)) == old_profile


def test_a_per_user_record_never_enters_the_prepared_profiles() -> None:
    domain = templated("%EMAILADDRESS%", "%EMAILLOCALPART%")
    address = EmailAddress("jane", "test.example")
    render_domain_mobileconfig(domain, address, ProfileOptions(PREFIX))
    kept = prepared_profiles()
    personal = render_mobileconfig(domain.with_login("u4711"), address, ProfileOptions(PREFIX))
    assert mail_payload(plistlib.loads(personal))["IncomingMailServerUsername"] == "u4711"
    assert prepared_profiles() == kept


# --- through the real server ----------------------------------------------------------

def cli_render(*args: str) -> bytes:
    result = run_cli("render", "apple", *args, "--domains", str(DOMAINS))
    assert result.returncode == 0, result.stderr
    return result.stdout_bytes


def test_the_server_sends_the_cli_bytes_with_the_right_headers(
    bundled_server: RunningServer,
) -> None:
    path = f"{PROFILE}?emailaddress=alice%40example.com&name=Alice%20Example"
    first = request(bundled_server.base, path)
    assert first.status == 200
    assert first.header("Content-Type") == "application/x-apple-aspen-config"
    assert first.header("Content-Disposition") == (
        'attachment; filename="example.com-imap.mobileconfig"'
    )
    assert first.header("Cache-Control") == "no-store"
    assert request(bundled_server.base, path).body == first.body
    assert first.body == cli_render("alice@example.com", "--name", "Alice Example")
    assert profile_problems(plistlib.loads(first.body)) == []


def test_pop3_and_idn_downloads(bundled_server: RunningServer) -> None:
    reply = request(bundled_server.base,
                    f"{PROFILE}?emailaddress=user%40customer-two.example&protocol=pop3")
    assert reply.status == 200
    assert mail_payload(plistlib.loads(reply.body))["EmailAccountType"] == "EmailTypePOP"
    assert reply.header("Content-Disposition") == (
        'attachment; filename="customer-two.example-pop3.mobileconfig"'
    )
    idn = request(bundled_server.base, f"{PROFILE}?emailaddress={quote('jürgen@Bücher.example')}")
    assert idn.status == 200
    assert idn.header("Content-Disposition") == (
        'attachment; filename="xn--bcher-kva.example-imap.mobileconfig";'
        " filename*=UTF-8''b%C3%BCcher.example-imap.mobileconfig"
    )


BAD_QUERIES = [
    ("emailaddress=alice%0d%0aSet-Cookie:%20x%40example.com", 400, "invalid email address"),
    ("emailaddress=alice%40example.com%0d%0aX-Evil:%201", 400, "invalid email address"),
    ("emailaddress=alice%40example.com%0d%0a", 400, "invalid email address"),
    ("emailaddress=alice%40example.com&name=Alice%0a", 400, "invalid name"),
    ("emailaddress=%3Cscript%3E%40example.com", 400, "invalid email address"),
    ("emailaddress=alice%00%40example.com", 400, "invalid email address"),
    ("emailaddress=" + "a" * 300 + "%40example.com", 400, "longer than"),
    ("emailaddress=alice%40example.com&name=A%0d%0aB", 400, "invalid name"),
    ("emailaddress=alice%40example.com&name=%3Cb%3Ehi%3C/b%3E", 400, "invalid name"),
    ("emailaddress=alice%40example.com&name=A%07B", 400, "invalid name"),
    ("emailaddress=alice%40example.com&name=" + "n" * 101, 400, "longer than"),
    ("emailaddress=alice%40example.com&name=A%E2%80%A8B", 400, "invalid name"),
    ("emailaddress=alice%40example.com&password=secret", 400, "password"),
    ("emailaddress=alice%40example.com&Password=secret", 400, "password"),
    ("emailaddress=alice%40example.com&protocol=exchange", 400, "imap, pop3 or activesync"),
    ("", 400, "the email address is missing"),
    ("emailaddress=alice%40unknown.example", 404, "unknown.example"),
    ("emailaddress=bob%40example.org&protocol=pop3", 404, "offers no POP3 server"),
    ("emailaddress=alice%40example.com&protocol=activesync", 404, "offers no Exchange ActiveSync"),
]


@pytest.mark.parametrize(("query", "status", "message"), BAD_QUERIES)
def test_bad_input_gets_a_clear_error(
    bundled_server: RunningServer, query: str, status: int, message: str
) -> None:
    reply = request(bundled_server.base, f"{PROFILE}?{query}")
    assert (reply.status, reply.header("Content-Type")) == (status, "text/plain; charset=utf-8")
    assert message in reply.text
    assert reply.header("Content-Disposition") is None
    assert reply.header("Set-Cookie") is None and reply.header("X-Evil") is None
    assert request(bundled_server.base, f"{PROFILE}?emailaddress=a%40example.com").status == 200


def test_cli_refuses_what_the_server_refuses() -> None:
    result = run_cli("render", "apple", "bob@example.org", "--protocol", "pop3",
                     "--domains", str(DOMAINS))
    assert result.returncode == 1
    assert "Example Org Mail offers no POP3 server" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_warns_about_auth_apple_cannot_express(tmp_path: Path) -> None:
    (tmp_path / "oauth.yaml").write_text(
        "name: OAuth Only\ndomains: [oauth.example]\n"
        "incoming:\n  - {protocol: imap, host: imap.oauth.example, security: tls, auth: oauth2}\n"
        "outgoing:\n  - {protocol: smtp, host: smtp.oauth.example, security: tls,"
        " auth: [oauth2, password]}\n"
        "caldav: http://dav.oauth.example/\n",
        encoding="utf-8",
    )
    result = run_cli("check", str(tmp_path))
    assert "incoming[0].auth: Apple profiles cannot express oauth2" in result.stdout
    assert "outgoing[0].auth: Apple" not in result.stdout  # password follows oauth2
    assert "caldav: caldav uses http://" in result.stdout


@pytest.mark.parametrize("address", ["alice@example.com", "Jürgen.X@xn--bcher-kva.example",
                                     "a&b@test.example", "日本@test.example"])
@pytest.mark.parametrize("kind", ["profile", "mail", "caldav", "carddav", "eas"])
def test_payload_uuids_are_the_standard_library_uuid5(address: str, kind: str) -> None:
    parsed = parse_address(address)
    name = f"{PREFIX}:{kind}:{str(parsed).lower()}"
    assert payload_uuid(PREFIX, parsed, kind) == str(uuid.uuid5(uuid.NAMESPACE_URL, name)).upper()
