"""Signed profiles: CMS verified by openssl against a test CA, and start-up refusals.

Each test run makes its own CA -> intermediate -> leaf in a tmp dir; no key is ever
committed. ``openssl cms -verify`` with only the root as trust anchor succeeds only if
the intermediate travels inside the profile, and ``-out`` only if the content is embedded.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from autoconfig.signing import SigningError, load_signer, signer_warnings
from tests.support.cli import run_cli
from tests.support.http import free_port, request
from tests.support.installed import decoy_directory, installed_command
from tests.support.paths import DOMAINS
from tests.support.pki import DAY, NOW, SigningPKI, make_signing_pki, subject_of
from tests.support.server import RunningServer, run_server
from tests.support.system import require_program

PROFILE = "/apple/profile.mobileconfig?emailaddress=alice%40example.com"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SigningPKI:
    return make_signing_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signed_server(
    pki: SigningPKI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    log_path = tmp_path_factory.mktemp("signed-server") / "server.log"
    with run_server(DOMAINS, log_path, env=pki.env()) as server:
        yield server


def _unsigned() -> bytes:
    result = run_cli("render", "apple", "alice@example.com", "--domains", str(DOMAINS))
    assert result.returncode == 0, result.stderr
    return result.stdout_bytes


def _openssl_verify(pki: SigningPKI, signed: bytes, tmp_path: Path) -> bytes:
    openssl = require_program("openssl", "openssl")
    (tmp_path / "profile.mobileconfig").write_bytes(signed)
    # -purpose any: the leaf is a TLS server certificate, as admins sign profiles with
    # theirs; openssl's default purpose (smimesign) would also demand emailProtection.
    result = subprocess.run(
        [str(openssl), "cms", "-verify", "-purpose", "any", "-CAfile", str(pki.ca),
         "-inform", "DER", "-in", str(tmp_path / "profile.mobileconfig"),
         "-out", str(tmp_path / "content")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    return (tmp_path / "content").read_bytes()


def test_signed_profile_verifies_against_the_test_ca(
    signed_server: RunningServer, pki: SigningPKI, tmp_path: Path
) -> None:
    reply = request(signed_server.base, PROFILE)
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/x-apple-aspen-config"
    assert reply.header("Content-Disposition") == (
        'attachment; filename="example.com-imap.mobileconfig"'
    )
    assert reply.body[:1] == b"\x30"  # DER SEQUENCE, not a PEM or S/MIME wrapper
    content = _openssl_verify(pki, reply.body, tmp_path)
    assert content == _unsigned()
    assert plistlib.loads(content)["PayloadType"] == "Configuration"
    carried = pkcs7.load_der_pkcs7_certificates(reply.body)
    subjects = [c.subject.rfc4514_string() for c in carried]
    assert sorted(subjects) == sorted([subject_of(pki.chain), subject_of(pki.cert)])
    assert f"profiles are signed by {subject_of(pki.cert)!r}" in signed_server.log()
    assert "served unsigned" not in signed_server.log()


def test_without_the_chain_openssl_cannot_verify(pki: SigningPKI, tmp_path: Path) -> None:
    """The control for the test above: the root alone does not reach a bare leaf."""
    signer = load_signer(pki.cert, pki.key)
    openssl = require_program("openssl", "openssl")
    (tmp_path / "p").write_bytes(signer.sign(b"<plist/>"))
    result = subprocess.run(
        [str(openssl), "cms", "-verify", "-purpose", "any", "-CAfile", str(pki.ca),
         "-inform", "DER", "-in", str(tmp_path / "p")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode != 0
    assert "unable to get local issuer certificate" in result.stderr


def test_cli_signed_output_verifies(pki: SigningPKI, tmp_path: Path) -> None:
    result = run_cli("render", "apple", "alice@example.com", "--signed", "--domains",
                     str(DOMAINS), env=pki.env())
    assert result.returncode == 0, result.stderr
    assert _openssl_verify(pki, result.stdout_bytes, tmp_path) == _unsigned()


def test_cli_signed_without_settings_is_an_error() -> None:
    names = ("AUTOCONFIG_SIGNING_CERT", "AUTOCONFIG_SIGNING_KEY", "AUTOCONFIG_SIGNING_CHAIN")
    env = dict.fromkeys(names, "")
    result = run_cli("render", "apple", "alice@example.com", "--signed", "--domains",
                     str(DOMAINS), env=env)
    assert result.returncode == 1
    assert "--signed needs AUTOCONFIG_SIGNING_CERT and AUTOCONFIG_SIGNING_KEY" in result.stderr


def test_unsigned_operation_is_logged_once(bundled_server: RunningServer) -> None:
    assert request(bundled_server.base, PROFILE).status == 200
    assert bundled_server.log().count("profiles are served unsigned") == 1


def _serve_refuses(env: dict[str, str], tmp_path: Path) -> str:
    """Run ``autoconfig serve`` and expect it to stop before serving; return its output."""
    port = free_port()
    process = subprocess.Popen(
        [str(installed_command()), "serve", "--bind", f"127.0.0.1:{port}",
         "--domains", str(DOMAINS)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **env},
        cwd=decoy_directory(),
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


def test_serve_refuses_a_key_of_another_certificate(pki: SigningPKI, tmp_path: Path) -> None:
    output = _serve_refuses(pki.env(AUTOCONFIG_SIGNING_KEY=str(pki.other_key)), tmp_path)
    assert f"AUTOCONFIG_SIGNING_KEY: the key in '{pki.other_key}' does not belong to the" \
           f" certificate {subject_of(pki.cert)!r}" in output


def test_serve_refuses_an_expired_certificate(pki: SigningPKI, tmp_path: Path) -> None:
    env = pki.env(AUTOCONFIG_SIGNING_CERT=str(pki.expired_cert),
                  AUTOCONFIG_SIGNING_KEY=str(pki.expired_key))
    output = _serve_refuses(env, tmp_path)
    assert (f"AUTOCONFIG_SIGNING_CERT: the certificate {subject_of(pki.expired_cert)!r}"
            " expired on") in output


@pytest.mark.parametrize("variable", ["AUTOCONFIG_SIGNING_CERT", "AUTOCONFIG_SIGNING_KEY",
                                      "AUTOCONFIG_SIGNING_CHAIN"])
def test_serve_refuses_an_unreadable_file(pki: SigningPKI, tmp_path: Path, variable: str) -> None:
    missing = tmp_path / "missing.pem"
    output = _serve_refuses(pki.env(**{variable: str(missing)}), tmp_path)
    assert f"{variable}: cannot read '{missing}': No such file or directory" in output
    output = _serve_refuses(pki.env(**{variable: str(tmp_path)}), tmp_path)  # a directory
    assert f"{variable}: cannot read '{tmp_path}': Is a directory" in output


def test_serve_refuses_half_settings_and_bad_prefix(pki: SigningPKI, tmp_path: Path) -> None:
    output = _serve_refuses({"AUTOCONFIG_SIGNING_CERT": str(pki.cert),
                             "AUTOCONFIG_SIGNING_KEY": ""}, tmp_path)
    assert "AUTOCONFIG_SIGNING_CERT is set, but AUTOCONFIG_SIGNING_KEY is not" in output
    output = _serve_refuses({"AUTOCONFIG_SIGNING_CERT": str(pki.key),
                             "AUTOCONFIG_SIGNING_KEY": str(pki.key)}, tmp_path)
    assert "holds no PEM certificate" in output
    output = _serve_refuses({"AUTOCONFIG_PROFILE_PREFIX": "not a prefix"}, tmp_path)
    assert "AUTOCONFIG_PROFILE_PREFIX: expected a reverse-DNS name" in output


def test_fullchain_file_and_warnings(pki: SigningPKI, tmp_path: Path) -> None:
    fullchain = tmp_path / "fullchain.pem"
    fullchain.write_bytes(pki.cert.read_bytes() + pki.chain.read_bytes())
    signer = load_signer(fullchain, pki.key)
    assert [c.subject.rfc4514_string() for c in signer.chain] == [subject_of(pki.chain)]
    assert signer_warnings(signer) == []
    soon = signer_warnings(signer, now=signer.certificate.not_valid_after_utc - DAY)
    assert any("expires on" in warning for warning in soon)
    wrong_order = load_signer(pki.cert, pki.key, pki.ca)
    assert any("did not issue" in warning for warning in signer_warnings(wrong_order))
    with pytest.raises(SigningError, match="is not valid before"):
        load_signer(pki.cert, pki.key, now=NOW - 30 * DAY)
