"""CMS signing of Apple profiles, and the start-up check of the signing files.

A signed profile is CMS SignedData, DER, with the plist embedded and the signer's
chain included, so iOS can show it as Verified (docs/apple.md#signing). Everything that
can be wrong with the files (unreadable, not PEM, key not matching, expired) is found
once, when the server starts, and stops it with a message naming the setting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7

from autoconfig.settings import Settings

log = logging.getLogger("autoconfig")

CERT_VARIABLE = "AUTOCONFIG_SIGNING_CERT"
KEY_VARIABLE = "AUTOCONFIG_SIGNING_KEY"
CHAIN_VARIABLE = "AUTOCONFIG_SIGNING_CHAIN"
EXPIRY_WARNING = timedelta(days=21)
MAX_PEM_BYTES = 1 << 20  # certificates and keys are a few kB; refuse anything absurd

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SigningError(Exception):
    """The signing settings cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Signer:
    """A checked certificate, its key and the intermediates that go with it."""

    certificate: x509.Certificate
    key: SigningKey
    chain: tuple[x509.Certificate, ...] = ()

    def sign(self, content: bytes) -> bytes:
        """``content`` wrapped in DER CMS SignedData: embedded, with the chain."""
        builder = pkcs7.PKCS7SignatureBuilder().set_data(content)
        builder = builder.add_signer(self.certificate, self.key, hashes.SHA256())
        for certificate in self.chain:
            builder = builder.add_certificate(certificate)
        # Binary: sign the plist as it is, no MIME canonicalisation of line ends
        # (docs/apple.md#signing).
        return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def _read(variable: str, path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_PEM_BYTES + 1)
    except OSError as error:
        raise SigningError(f"{variable}: cannot read {str(path)!r}: {error.strerror}") from None
    if len(data) > MAX_PEM_BYTES:
        raise SigningError(f"{variable}: {str(path)!r} is larger than {MAX_PEM_BYTES} bytes")
    return data


def _certificates(variable: str, path: Path) -> list[x509.Certificate]:
    data = _read(variable, path)
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise SigningError(
            f"{variable}: {str(path)!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ) from None
    return certificates


def _private_key(path: Path) -> SigningKey:
    data = _read(KEY_VARIABLE, path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise SigningError(
            f"{KEY_VARIABLE}: {str(path)!r} is encrypted; give an unencrypted key that only"
            " the service user can read"
        ) from None
    except ValueError:
        raise SigningError(f"{KEY_VARIABLE}: {str(path)!r} holds no PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError(
            f"{KEY_VARIABLE}: {str(path)!r} is a {type(key).__name__}; CMS signing of"
            " profiles needs an RSA or EC key"
        )
    return key


def _public_der(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string() or "(empty subject)"


def _check_dates(variable: str, certificate: x509.Certificate, now: datetime) -> None:
    if certificate.not_valid_after_utc <= now:
        raise SigningError(
            f"{variable}: the certificate {_subject(certificate)!r} expired on"
            f" {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; iOS shows profiles"
            " signed with it as Unverified"
        )
    if certificate.not_valid_before_utc > now:
        raise SigningError(
            f"{variable}: the certificate {_subject(certificate)!r} is not valid before"
            f" {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )


def signer_warnings(signer: Signer, now: datetime | None = None) -> list[str]:
    """What is usable now but will go wrong: an expiry soon, a chain out of order."""
    now = now or datetime.now(UTC)
    warnings = [
        f"{variable}: the certificate {_subject(certificate)!r} expires on"
        f" {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; renew it, or installed"
        " profiles turn Unverified"
        for variable, certificate in [
            (CERT_VARIABLE, signer.certificate), *((CHAIN_VARIABLE, c) for c in signer.chain)
        ]
        if certificate.not_valid_after_utc - now < EXPIRY_WARNING
    ]
    if signer.chain:
        try:
            signer.certificate.verify_directly_issued_by(signer.chain[0])
        except (ValueError, TypeError, InvalidSignature):
            warnings.append(
                f"{CHAIN_VARIABLE}: the first chain certificate {_subject(signer.chain[0])!r}"
                f" did not issue {_subject(signer.certificate)!r}; iOS needs the intermediates"
                " in order, starting with the signer's issuer"
            )
    return warnings


def load_signer(
    cert_path: Path, key_path: Path, chain_path: Path | None = None,
    now: datetime | None = None,
) -> Signer:
    """Read and check the signing files; SigningError says what is wrong.

    The certificate file may hold the whole chain (a "fullchain.pem"): its first
    certificate signs, the others are sent along, before those of ``chain_path``.
    """
    now = now or datetime.now(UTC)
    certificate, *chain = _certificates(CERT_VARIABLE, cert_path)
    key = _private_key(key_path)
    if chain_path is not None:
        chain += _certificates(CHAIN_VARIABLE, chain_path)
    if _public_der(certificate.public_key()) != _public_der(key.public_key()):
        raise SigningError(
            f"{KEY_VARIABLE}: the key in {str(key_path)!r} does not belong to the certificate"
            f" {_subject(certificate)!r} in {str(cert_path)!r}"
        )
    _check_dates(CERT_VARIABLE, certificate, now)
    for intermediate in chain:
        _check_dates(CHAIN_VARIABLE, intermediate, now)
    return Signer(certificate, key, tuple(chain))


def configured_signer(settings: Settings) -> Signer | None:
    """The checked signer the settings name, None when they name none."""
    if settings.signing_cert is None and settings.signing_key is None:
        if settings.signing_chain is not None:
            raise SigningError(f"{CHAIN_VARIABLE} is set, but {CERT_VARIABLE} is not")
        return None
    if settings.signing_cert is None:
        raise SigningError(f"{KEY_VARIABLE} is set, but {CERT_VARIABLE} is not")
    if settings.signing_key is None:
        raise SigningError(f"{CERT_VARIABLE} is set, but {KEY_VARIABLE} is not")
    return load_signer(settings.signing_cert, settings.signing_key, settings.signing_chain)


def signer_from_settings(settings: Settings) -> Signer | None:
    """``configured_signer``, and a log of what it means: once per start-up."""
    signer = configured_signer(settings)
    if signer is None:
        log.warning(
            "profiles are served unsigned (iOS shows them as Unverified); set %s and %s"
            " to sign them", CERT_VARIABLE, KEY_VARIABLE,
        )
        return None
    log.info("profiles are signed by %r", _subject(signer.certificate))
    for warning in signer_warnings(signer):
        log.warning("%s", warning)
    return signer
