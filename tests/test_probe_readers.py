"""The probe's readers of client answers, and its staging arguments (pure functions).

The deployment tests (test_probe_deployment.py) run them against the real server;
these pin the client rules the server never triggers on its own.
"""

from __future__ import annotations

import datetime
import plistlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from autoconfig.address import parse_address
from autoconfig.probe.clientconfig import (
    Rejected,
    android_settings,
    deltachat_settings,
    parse_document,
    thunderbird_settings,
)
from autoconfig.probe.clients import settle
from autoconfig.probe.cms import CmsError, read_signed
from autoconfig.probe.result import Setting, Status, Verdict
from autoconfig.probe.suffix import (
    base_domain,
    is_public_suffix,
    mx_lookup_domains,
    next_sub_domain,
)
from autoconfig.probe.transport import ConnectTo, parse_connect_to, parse_resolve
from autoconfig.signing import Signer
from tests.support.paths import TEST_DATA

ADDRESS = parse_address("erin@example.com")
MIXED = (TEST_DATA / "probe" / "configs" / "second-imap-plain.xml").read_bytes()


def test_thunderbird_takes_the_first_usable_server_of_each_direction() -> None:
    notes: list[str] = []
    found = thunderbird_settings(parse_document(MIXED), ADDRESS, notes)
    assert found == [
        Setting("incoming", "pop3", "pop.example.com", 110, "plain", "password-cleartext",
                "erin@example.com"),
        Setting("outgoing", "smtp", "smtp.example.com", 465, "SSL", "none", "erin@example.com"),
    ]
    assert notes == []


def test_android_rejects_the_whole_document_for_one_plain_imap_server() -> None:
    with pytest.raises(Rejected, match=r"^Unknown 'socketType' value: 'plain'$"):
        android_settings(parse_document(MIXED), ADDRESS)


# The document with the second IMAP server on STARTTLS and the SMTP server's "TLS" gone.
FIXED = (MIXED.replace(b"<port>143</port><socketType>plain",
                       b"<port>143</port><socketType>STARTTLS")
         .replace(b"<socketType>TLS</socketType>", b""))


def test_android_skips_pop3_and_reads_the_first_imap_server() -> None:
    assert android_settings(parse_document(FIXED), ADDRESS) == [
        Setting("incoming", "imap", "imap.example.com", 993, "SSL", "password-cleartext", "erin"),
        Setting("outgoing", "smtp", "smtp.example.com", 465, "SSL", "password-encrypted",
                "erin@example.com"),
    ]


def test_android_wants_a_username_and_a_usable_authentication() -> None:
    no_user = FIXED.replace(b"<username>%EMAILLOCALPART%</username>", b"")
    with pytest.raises(Rejected, match=r"^Missing 'username' element$"):
        android_settings(parse_document(no_user), ADDRESS)
    only_none = FIXED.replace(b"<authentication>password-encrypted</authentication>", b"")
    with pytest.raises(Rejected, match=r"^No usable 'authentication' element found$"):
        android_settings(parse_document(only_none), ADDRESS)
    with pytest.raises(Rejected, match=r"^Unknown 'socketType' value: 'TLS'$"):
        android_settings(parse_document(MIXED.replace(b"plain", b"SSL")), ADDRESS)


def test_delta_chat_keeps_every_imap_and_smtp_server() -> None:
    assert [(s.protocol, s.port, s.security) for s in
            deltachat_settings(parse_document(MIXED), ADDRESS)] == [
        ("imap", 993, "ssl"), ("imap", 143, "plain"), ("smtp", 465, "ssl"),  # the last wins
    ]


def test_a_document_that_is_not_xml_is_rejected_with_the_reason() -> None:
    with pytest.raises(Rejected, match=r"^not well-formed XML \("):
        parse_document(b"<html><body>Welcome")


@pytest.mark.parametrize(
    ("host", "domain", "bases"),
    [("mx1.eu.host.com", "example.com", ["eu.host.com", "host.com"]),
     ("mail.example.com", "example.com", []),
     ("mx.provider.net", "example.com", ["provider.net"]),
     # co.uk is a public suffix: the base domain of an MX under it has three labels.
     ("mail.shop.co.uk", "shop.co.uk", []),
     ("mx.shop.co.uk", "other.co.uk", ["shop.co.uk"]),
     ("mx1.eu.hoster.co.uk", "shop.co.uk", ["eu.hoster.co.uk", "hoster.co.uk"]),
     ("a.b.mx.hoster.co.uk", "shop.co.uk", ["b.mx.hoster.co.uk", "hoster.co.uk"]),
     # A private-section suffix counts too, as in Mozilla's effective-TLD service.
     ("mx.someone.github.io", "example.com", ["someone.github.io"]),
     # A public suffix or an address as MX host: Thunderbird's eTLD calls throw, nothing asked.
     ("co.uk", "shop.co.uk", []), ("github.io", "example.com", []),
     ("192.0.2.25", "example.com", [])],
)
def test_mx_lookup_domains_as_thunderbird_derives_them(
    host: str, domain: str, bases: list[str]
) -> None:
    found = mx_lookup_domains(host, domain)
    assert found == bases
    assert not any(is_public_suffix(name) for name in found)


def test_public_suffixes_come_from_the_shipped_list() -> None:
    assert [is_public_suffix(n) for n in ("co.uk", "com", "github.io", "shop.co.uk", "a.b")] == [
        True, True, True, False, False]
    assert base_domain("www.bbc.co.uk") == "bbc.co.uk"
    assert next_sub_domain("bbc.co.uk") is None


def test_connect_to_and_resolve_read_like_curl() -> None:
    assert parse_connect_to(":443::8443") == ConnectTo("", 443, "", 8443)
    assert parse_connect_to("Autoconfig.Example.com:80:[::1]:8080") == ConnectTo(
        "autoconfig.example.com", 80, "::1", 8080)
    assert parse_resolve("example.com:443:[2001:db8::1]") == ("example.com", 443, "2001:db8::1")
    with pytest.raises(ValueError, match=r"expected a port from 1 to 65535; got '70000'"):
        parse_connect_to("a:70000:b:1")


def _signer() -> Signer:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe test signer")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    return Signer(certificate, key)


def test_a_signed_profile_gives_back_its_content_and_signer() -> None:
    signer = _signer()
    content = plistlib.dumps({"PayloadType": "Configuration"})
    signed = read_signed(signer.sign(content))
    assert signed.content == content
    assert signed.signer == signer.certificate


def test_a_changed_profile_fails_the_signature() -> None:
    content = plistlib.dumps({"PayloadType": "Configuration", "PayloadDisplayName": "Mail"})
    tampered = _signer().sign(content).replace(b"Mail", b"Evil")
    with pytest.raises(CmsError, match=r"^the profile was changed after signing"):
        read_signed(tampered)


def test_a_truncated_profile_is_a_plain_error() -> None:
    with pytest.raises(CmsError, match=r"^(truncated DER|malformed CMS)"):
        read_signed(_signer().sign(b"x" * 100)[:200])


def test_thunderbird_passes_over_oauth2_it_has_no_provider_for() -> None:
    with_password = FIXED.replace(b"<authentication>none</authentication>",
                                  b"<authentication>OAuth2</authentication>")
    found = thunderbird_settings(parse_document(with_password), ADDRESS, [])
    assert found[1].authentication == "password-encrypted"
    only_oauth = with_password.replace(
        b"<authentication>password-encrypted</authentication>", b"")
    notes: list[str] = []
    with pytest.raises(Rejected, match=r"^no usable <outgoingServer>$"):
        thunderbird_settings(parse_document(only_oauth), ADDRESS, notes)
    assert notes == [
        "skips <outgoingServer type='smtp'>: no authentication it can use (got ['OAuth2'];"
        " OAuth2 only for the providers built into Thunderbird)",
    ]


def test_a_certificate_failure_on_the_way_shows_in_an_ok_headline() -> None:
    """Outlook asks autodiscover.<domain> first; its certificate warning is the user's."""
    verdict = Verdict("outlook", "Outlook")
    verdict.step("GET https://autodiscover.example.com/autodiscover/autodiscover.json",
                 "the certificate of autodiscover.example.com names example.com, not"
                 " autodiscover.example.com",
                 fix="get a certificate that also names autodiscover.example.com", serious=True)
    verdict.step("DNS SRV _autodiscover._tcp.example.com", "no record")  # a skipped candidate
    server = Setting("incoming", "imap", "mail.example.com", 993, "SSL", "password", "a")
    verdict.succeed("https://example.com/autodiscover/autodiscover.xml", [server],
                    "configured from Autodiscover (POX)")
    settle(verdict)
    assert verdict.status is Status.WARNING
    assert verdict.summary == (
        "configured from Autodiscover (POX); but first GET https://autodiscover.example.com"
        "/autodiscover/autodiscover.json: the certificate of autodiscover.example.com names"
        " example.com, not autodiscover.example.com")
    assert verdict.fixes() == ["get a certificate that also names autodiscover.example.com"]


def test_skipped_candidates_alone_leave_the_verdict_ok() -> None:
    verdict = Verdict("thunderbird", "Thunderbird desktop")
    verdict.step("GET https://autoconfig.example.com/mail/config-v1.1.xml",
                 "autoconfig.example.com does not exist in DNS (NXDOMAIN)", fix="publish it")
    server = Setting("incoming", "imap", "mail.example.com", 993, "SSL", "password-cleartext",
                     "a")
    verdict.succeed("https://example.com/.well-known/autoconfig/mail/config-v1.1.xml", [server],
                    "configured from autoconfig")
    assert settle(verdict).status is Status.OK
