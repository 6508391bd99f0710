"""Apple devices: the profile download, and whether the install sheet says Verified.

Apple devices do not discover anything: a person opens a profile link (the settings
page offers https://autoconfig.<domain>/apple/profile.mobileconfig?emailaddress=…).
Safari offers to install only ``application/x-apple-aspen-config``. The install sheet
shows Verified when the CMS signature holds and the signer's chain leads to a trusted
root, and Unverified when the profile is unsigned, the chain is incomplete or the
signing certificate has expired (Apple's device-management profile reference,
docs/apple.md; the signed form is CMS SignedData with the profile embedded).
"""

from __future__ import annotations

import plistlib
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from cryptography import x509
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from autoconfig.probe.cms import CmsError, read_signed
from autoconfig.probe.common import address_query
from autoconfig.probe.fetch import Probe, described
from autoconfig.probe.result import Setting, Status, Verdict

NAME = "apple"
TITLE = "Apple devices (iOS, macOS)"
FOLLOW = 5
PROFILE_TYPE = "application/x-apple-aspen-config"
SIGNING_FIX = ("renew the signing certificate (AUTOCONFIG_SIGNING_CERT, with its"
               " intermediates in AUTOCONFIG_SIGNING_CHAIN) and restart the server")


def trusted_roots(cafile: Path | None) -> list[x509.Certificate]:
    """The roots a device would trust: ``--ca-file``, else the system's store."""
    system = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    path = cafile or Path(system)
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        return []


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string() or "(empty subject)"


def _settings(profile: dict[str, Any]) -> list[Setting]:
    settings = []
    payloads = profile.get("PayloadContent")
    for payload in payloads if isinstance(payloads, list) else []:
        if not isinstance(payload, dict) or payload.get("PayloadType") != "com.apple.mail.managed":
            continue
        kind = "imap" if payload.get("EmailAccountType") == "EmailTypeIMAP" else "pop3"
        for role, prefix, protocol in (("incoming", "Incoming", kind),
                                       ("outgoing", "Outgoing", "smtp")):
            settings.append(Setting(
                role, protocol, str(payload.get(f"{prefix}MailServerHostName", "")),
                int(payload.get(f"{prefix}MailServerPortNumber", 0)),
                "TLS" if payload.get(f"{prefix}MailServerUseSSL") else "none",
                str(payload.get(f"{prefix}MailServerAuthentication", "")),
                str(payload.get(f"{prefix}MailServerUsername", "")),
            ))
    return settings


def _chain_problem(signed: Any, roots: list[x509.Certificate], now: datetime) -> str:
    """Why the chain does not verify ("" when it does)."""
    if not roots:
        return "no trusted root certificates to check the chain against"
    builder = (PolicyBuilder().store(Store(roots)).time(now)
               .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                   ee_policy=ExtensionPolicy.permit_all()))
    try:
        builder.build_client_verifier().verify(signed.signer, list(signed.others))
    except VerificationError as error:
        return str(error)
    return ""


def _signature(probe: Probe, body: bytes) -> tuple[bytes, str] | None:
    """The plist inside a signed profile and the Verified line; None (a failed step) if not."""
    verdict, now = probe.verdict, datetime.now(UTC)
    try:
        signed = read_signed(body)
    except CmsError as error:
        verdict.step("CMS signature", f"Unverified: {error}", fix=SIGNING_FIX)
        return None
    signer = signed.signer
    expires = f"{signer.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    if signer.not_valid_after_utc <= now:
        verdict.step("CMS signature", f"Unverified: the signing certificate"
                     f" {_subject(signer)!r} expired on {expires}", fix=SIGNING_FIX)
        return None
    problem = _chain_problem(signed, trusted_roots(probe.session.cafile), now)
    if problem:
        verdict.step("CMS signature", f"Unverified: the chain of {_subject(signer)!r} does"
                     f" not lead to a trusted root ({problem})",
                     fix="send the intermediates along (AUTOCONFIG_SIGNING_CHAIN) and sign"
                         " with a certificate from a CA devices trust")
        return None
    chain = " <- ".join(_subject(c) for c in (signer, *signed.others))
    line = f"Verified: signed by {chain}; the signing certificate expires {expires}"
    verdict.step("CMS signature", line, ok=True)
    return signed.content, line


def probe_client(probe: Probe) -> Verdict:
    """Download the profile the settings page links to and judge it as the install sheet."""
    verdict = probe.verdict
    url = (f"https://autoconfig.{probe.domain}/apple/profile.mobileconfig"
           f"{address_query(probe.address)}")
    response = probe.get(url, follow=FOLLOW)
    if response is None:
        return verdict.fail("the profile cannot be downloaded")
    action = f"GET {response.url}"
    if response.status != 200 or response.content_type != PROFILE_TYPE:
        verdict.step(action, f"{described(response)}: Safari offers to install only"
                     f" {PROFILE_TYPE}", fix="pass /apple/ to the autoconfig server (nginx/)"
                     " and keep its Content-Type")
        return verdict.fail("no installable profile")
    verdict.step(action, described(response), ok=True)
    body, signature = response.body, ""
    if not body.lstrip().startswith((b"<?xml", b"<plist", b"bplist")):
        signed = _signature(probe, body)
        if signed is None:
            return verdict.fail("the install sheet shows Unverified")
        body, signature = signed
    try:
        profile = plistlib.loads(body)
        settings = _settings(profile if isinstance(profile, dict) else {})
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError) as error:
        settings = []
        verdict.step("profile", f"not a readable property list ({error})")
    if not settings:
        verdict.step("profile", "no com.apple.mail.managed payload", fix="serve the profile the"
                     " autoconfig server renders")
        return verdict.fail("the profile configures no mail account")
    if not signature:
        verdict.step("CMS signature", "Unverified: the profile is not signed",
                     fix="set AUTOCONFIG_SIGNING_CERT and AUTOCONFIG_SIGNING_KEY"
                         " (autoconfig docs operating#signing-apple-profiles)")
        return verdict.succeed(response.url, settings, "installs, but the sheet shows"
                               " Unverified", Status.WARNING)
    return verdict.succeed(response.url, settings, signature)
