"""The one test PKI: trustme CAs and certificates, written to files for the programs.

nginx, openssl and ``autoconfig serve`` read certificates from files, so each helper
here makes them with trustme (a maintained library for exactly this) and writes PEM
files into a test's temporary directory. No key is ever committed.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


def _write(path: Path, data: bytes, *, private: bool = False) -> Path:
    path.write_bytes(data)
    if private:
        path.chmod(0o600)
    return path


def subject_of(path: Path) -> str:
    """The RFC 4514 subject of the first certificate in a PEM file (as logs print it)."""
    return x509.load_pem_x509_certificate(path.read_bytes()).subject.rfc4514_string()


@dataclass(frozen=True)
class LoopbackPKI:
    """A CA the client trusts and a leaf certificate a server (nginx) presents."""

    ca: Path
    cert: Path
    key: Path


def make_pki(directory: Path, names: Sequence[str]) -> LoopbackPKI:
    """A fresh CA and a TLS leaf for ``names`` (and 127.0.0.1), written to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert(*names, "127.0.0.1", common_name=names[0])
    return LoopbackPKI(
        _write(directory / "ca.pem", ca.cert_pem.bytes()),
        _write(directory / "leaf.pem", b"".join(p.bytes() for p in leaf.cert_chain_pems)),
        _write(directory / "leaf.key", leaf.private_key_pem.bytes(), private=True),
    )


@dataclass(frozen=True)
class SigningPKI:
    """Root -> intermediate -> signing leaf for profiles, plus broken variants."""

    ca: Path
    chain: Path  # the intermediate
    cert: Path  # the leaf alone (the chain travels in AUTOCONFIG_SIGNING_CHAIN)
    key: Path
    other_key: Path  # the intermediate's key: belongs to another certificate
    expired_cert: Path
    expired_key: Path

    def env(self, **overrides: str) -> dict[str, str]:
        """The AUTOCONFIG_SIGNING_* settings naming these files."""
        return {
            "AUTOCONFIG_SIGNING_CERT": str(self.cert), "AUTOCONFIG_SIGNING_KEY": str(self.key),
            "AUTOCONFIG_SIGNING_CHAIN": str(self.chain), **overrides,
        }


def make_signing_pki(directory: Path, name: str = "autoconfig.example.com") -> SigningPKI:
    """An RSA root, an ECDSA intermediate, an RSA leaf for ``name``, an expired leaf."""
    directory.mkdir(parents=True, exist_ok=True)
    root = trustme.CA(key_type=trustme.KeyType.RSA)
    intermediate = root.create_child_ca()
    leaf = intermediate.issue_cert(  # valid since yesterday, for 90 days
        name, common_name=name, key_type=trustme.KeyType.RSA,
        not_before=NOW - DAY, not_after=NOW + 90 * DAY,
    )
    expired = intermediate.issue_cert(
        f"expired.{name}", common_name=f"expired.{name}",
        not_before=NOW - 400 * DAY, not_after=NOW - DAY,
    )
    return SigningPKI(
        ca=_write(directory / "ca.pem", root.cert_pem.bytes()),
        chain=_write(directory / "chain.pem", intermediate.cert_pem.bytes()),
        cert=_write(directory / "cert.pem", leaf.cert_chain_pems[0].bytes()),
        key=_write(directory / "key.pem", leaf.private_key_pem.bytes(), private=True),
        other_key=_write(
            directory / "other-key.pem", intermediate.private_key_pem.bytes(), private=True
        ),
        expired_cert=_write(directory / "expired.pem", expired.cert_chain_pems[0].bytes()),
        expired_key=_write(directory / "expired-key.pem", expired.private_key_pem.bytes(),
                           private=True),
    )


def make_short_lived_signer(directory: Path, seconds: float) -> tuple[Path, Path]:
    """A signing certificate and key that stop being valid ``seconds`` from now."""
    directory.mkdir(parents=True, exist_ok=True)
    leaf = trustme.CA().issue_cert(
        "expiring-signer.test", common_name="expiring signer",
        not_before=NOW - DAY, not_after=datetime.datetime.now(datetime.UTC)
        + datetime.timedelta(seconds=seconds),
    )
    return (
        _write(directory / "signer.pem", leaf.cert_chain_pems[0].bytes()),
        _write(directory / "signer.key", leaf.private_key_pem.bytes(), private=True),
    )


def not_after_of(path: Path) -> datetime.datetime:
    """When the first certificate in a PEM file stops being valid (UTC)."""
    return x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc
