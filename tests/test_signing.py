"""Signed profiles: CMS verified by openssl against a test CA, and start-up refusals.

Each test run makes its own CA -> intermediate -> leaf in a tmp dir; no key is ever
committed. ``openssl cms -verify`` with only the root as trust anchor succeeds only if
the intermediate travels inside the profile, and ``-out`` only if the content is embedded.
"""

from __future__ import annotations

import datetime
import os
import plistlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from autoconfig.signing import SigningError, load_signer, signer_warnings
from tests.support.http import free_port, request
from tests.support.paths import DOMAINS
from tests.support.server import RunningServer, run_server
from tests.support.system import require_program

AUTOCONFIG = Path(sys.executable).with_name("autoconfig")
PROFILE = "/apple/profile.mobileconfig?emailaddress=alice%40example.com"
NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: Key, issuer: tuple[x509.Certificate, Key] | None, *, ca: bool,
    not_before: datetime.datetime = NOW - DAY, not_after: datetime.datetime = NOW + 90 * DAY,
) -> x509.Certificate:
    issuer_name = issuer[0].subject if issuer else _name(subject)
    signing_key = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:  # a TLS server certificate also good for S/MIME signing (openssl's default)
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("autoconfig.example.com")]), critical=False
        ).add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    else:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, encipher_only=False,
                          decipher_only=False),
            critical=True,
        )
    return builder.sign(signing_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Pki:
    """Files of a test CA, intermediate and leaf, plus a few broken variants."""

    folder: Path
    ca: Path
    chain: Path
    cert: Path
    key: Path
    other_key: Path
    expired_cert: Path
    expired_key: Path

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            "AUTOCONFIG_SIGNING_CERT": str(self.cert), "AUTOCONFIG_SIGNING_KEY": str(self.key),
            "AUTOCONFIG_SIGNING_CHAIN": str(self.chain), **overrides,
        }


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _certificate("autoconfig test root", ca_key, None, ca=True)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = _certificate("autoconfig test intermediate", inter_key, (ca, ca_key), ca=True)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = _certificate("autoconfig.example.com", leaf_key, (inter, inter_key), ca=False)
    old_key = ec.generate_private_key(ec.SECP256R1())
    old = _certificate("expired.example.com", old_key, (inter, inter_key), ca=False,
                       not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    files = {
        "ca.pem": _pem(ca), "chain.pem": _pem(inter), "cert.pem": _pem(leaf),
        "key.pem": _key_pem(leaf_key), "other-key.pem": _key_pem(inter_key),
        "expired.pem": _pem(old), "expired-key.pem": _key_pem(old_key),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return Pki(folder, *(folder / n for n in files))


@pytest.fixture(scope="module")
def signed_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    log_path = tmp_path_factory.mktemp("signed-server") / "server.log"
    with run_server(DOMAINS, log_path, env=pki.env()) as server:
        yield server


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(AUTOCONFIG), *args], capture_output=True, timeout=60, check=False,
        env={**os.environ, **(env or {})},
    )


def _unsigned() -> bytes:
    result = _cli("render", "apple", "alice@example.com", "--domains", str(DOMAINS))
    assert result.returncode == 0, result.stderr
    return result.stdout


def _openssl_verify(pki: Pki, signed: bytes, tmp_path: Path) -> bytes:
    openssl = require_program("openssl", "openssl")
    (tmp_path / "profile.mobileconfig").write_bytes(signed)
    result = subprocess.run(
        [str(openssl), "cms", "-verify", "-CAfile", str(pki.ca), "-inform", "DER",
         "-in", str(tmp_path / "profile.mobileconfig"), "-out", str(tmp_path / "content")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    return (tmp_path / "content").read_bytes()


def test_signed_profile_verifies_against_the_test_ca(
    signed_server: RunningServer, pki: Pki, tmp_path: Path
) -> None:
    reply = request(signed_server.base, PROFILE)
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/x-apple-aspen-config"
    assert reply.header("Content-Disposition") == 'attachment; filename="example.com.mobileconfig"'
    assert reply.body[:1] == b"\x30"  # DER SEQUENCE, not a PEM or S/MIME wrapper
    content = _openssl_verify(pki, reply.body, tmp_path)
    assert content == _unsigned()
    assert plistlib.loads(content)["PayloadType"] == "Configuration"
    carried = pkcs7.load_der_pkcs7_certificates(reply.body)
    subjects = [c.subject.rfc4514_string() for c in carried]
    assert sorted(subjects) == ["CN=autoconfig test intermediate", "CN=autoconfig.example.com"]
    assert "profiles are signed by 'CN=autoconfig.example.com'" in signed_server.log()
    assert "served unsigned" not in signed_server.log()


def test_without_the_chain_openssl_cannot_verify(pki: Pki, tmp_path: Path) -> None:
    """The control for the test above: the root alone does not reach a bare leaf."""
    signer = load_signer(pki.cert, pki.key)
    openssl = require_program("openssl", "openssl")
    (tmp_path / "p").write_bytes(signer.sign(b"<plist/>"))
    result = subprocess.run(
        [str(openssl), "cms", "-verify", "-CAfile", str(pki.ca), "-inform", "DER",
         "-in", str(tmp_path / "p")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode != 0
    assert "unable to get local issuer certificate" in result.stderr


def test_cli_signed_output_verifies(pki: Pki, tmp_path: Path) -> None:
    result = _cli("render", "apple", "alice@example.com", "--signed", "--domains", str(DOMAINS),
                  env=pki.env())
    assert result.returncode == 0, result.stderr
    assert _openssl_verify(pki, result.stdout, tmp_path) == _unsigned()


def test_cli_signed_without_settings_is_an_error() -> None:
    names = ("AUTOCONFIG_SIGNING_CERT", "AUTOCONFIG_SIGNING_KEY", "AUTOCONFIG_SIGNING_CHAIN")
    env = dict.fromkeys(names, "")
    result = _cli("render", "apple", "alice@example.com", "--signed", "--domains",
                  str(DOMAINS), env=env)
    assert result.returncode == 1
    assert b"--signed needs AUTOCONFIG_SIGNING_CERT and AUTOCONFIG_SIGNING_KEY" in result.stderr


def test_unsigned_operation_is_logged_once(bundled_server: RunningServer) -> None:
    assert request(bundled_server.base, PROFILE).status == 200
    assert bundled_server.log().count("profiles are served unsigned") == 1


def _serve_refuses(env: dict[str, str], tmp_path: Path) -> str:
    """Run ``autoconfig serve`` and expect it to stop before serving; return its output."""
    port = free_port()
    process = subprocess.Popen(
        [str(AUTOCONFIG), "serve", "--bind", f"127.0.0.1:{port}", "--domains", str(DOMAINS)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **env},
    )
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("autoconfig serve started despite bad signing settings") from None
    assert process.returncode == 1
    text = output.decode()
    assert "Traceback" not in text
    return text


def test_serve_refuses_a_key_of_another_certificate(pki: Pki, tmp_path: Path) -> None:
    output = _serve_refuses(pki.env(AUTOCONFIG_SIGNING_KEY=str(pki.other_key)), tmp_path)
    assert f"AUTOCONFIG_SIGNING_KEY: the key in '{pki.other_key}' does not belong to the" \
           " certificate 'CN=autoconfig.example.com'" in output


def test_serve_refuses_an_expired_certificate(pki: Pki, tmp_path: Path) -> None:
    env = pki.env(AUTOCONFIG_SIGNING_CERT=str(pki.expired_cert),
                  AUTOCONFIG_SIGNING_KEY=str(pki.expired_key))
    output = _serve_refuses(env, tmp_path)
    assert "AUTOCONFIG_SIGNING_CERT: the certificate 'CN=expired.example.com' expired on" in output


@pytest.mark.parametrize("variable", ["AUTOCONFIG_SIGNING_CERT", "AUTOCONFIG_SIGNING_KEY",
                                      "AUTOCONFIG_SIGNING_CHAIN"])
def test_serve_refuses_an_unreadable_file(pki: Pki, tmp_path: Path, variable: str) -> None:
    missing = tmp_path / "missing.pem"
    output = _serve_refuses(pki.env(**{variable: str(missing)}), tmp_path)
    assert f"{variable}: cannot read '{missing}': No such file or directory" in output
    output = _serve_refuses(pki.env(**{variable: str(tmp_path)}), tmp_path)  # a directory
    assert f"{variable}: cannot read '{tmp_path}': Is a directory" in output


def test_serve_refuses_half_settings_and_bad_prefix(pki: Pki, tmp_path: Path) -> None:
    output = _serve_refuses({"AUTOCONFIG_SIGNING_CERT": str(pki.cert),
                             "AUTOCONFIG_SIGNING_KEY": ""}, tmp_path)
    assert "AUTOCONFIG_SIGNING_CERT is set, but AUTOCONFIG_SIGNING_KEY is not" in output
    output = _serve_refuses({"AUTOCONFIG_SIGNING_CERT": str(pki.key),
                             "AUTOCONFIG_SIGNING_KEY": str(pki.key)}, tmp_path)
    assert "holds no PEM certificate" in output
    output = _serve_refuses({"AUTOCONFIG_PROFILE_PREFIX": "not a prefix"}, tmp_path)
    assert "AUTOCONFIG_PROFILE_PREFIX: expected a reverse-DNS name" in output


def test_fullchain_file_and_warnings(pki: Pki, tmp_path: Path) -> None:
    fullchain = tmp_path / "fullchain.pem"
    fullchain.write_bytes(pki.cert.read_bytes() + pki.chain.read_bytes())
    signer = load_signer(fullchain, pki.key)
    assert [c.subject.rfc4514_string() for c in signer.chain] == [
        "CN=autoconfig test intermediate"
    ]
    assert signer_warnings(signer) == []
    soon = signer_warnings(signer, now=signer.certificate.not_valid_after_utc - DAY)
    assert any("expires on" in warning for warning in soon)
    wrong_order = load_signer(pki.cert, pki.key, pki.ca)
    assert any("did not issue" in warning for warning in signer_warnings(wrong_order))
    with pytest.raises(SigningError, match="is not valid before"):
        load_signer(pki.cert, pki.key, now=NOW - 30 * DAY)
