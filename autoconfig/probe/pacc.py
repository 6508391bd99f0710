"""PACC: the JSON document at ``ua-auto-config.<domain>``, accepted only with its TXT digest.

Source: draft-ietf-mailmaint-pacc-02, the revision the server follows (docs/pacc.md
says why), and pimalaya's discovery library, a client that implements it: GET
https://ua-auto-config.<domain>/.well-known/user-agent-configuration.json, then the
TXT records of ``_ua-auto-config.<domain>``: a record ``v=UAAC1; a=sha256; d=<base64>``
(character-strings joined) whose digest is the SHA-256 of the exact body accepts the
document; without one the client rejects it. The JSON must hold ``protocols``,
``authentication`` and ``info`` (objects). A text protocol's ``host`` means implicit
TLS (RFC 8314) on the standard port with the email address as login name; ``jmap``,
``caldav`` and ``carddav`` carry a ``url``. No client is known to follow redirects
here or to send credentials for this public document; the probe does neither.
"""

from __future__ import annotations

import json
from typing import Any

from autoconfig.dns.records import pacc_txt_of
from autoconfig.probe.fetch import Probe, described
from autoconfig.probe.result import Setting, Status, Verdict
from autoconfig.render.pacc import (
    HOST_PREFIX,
    TXT_LABEL,
    WELL_KNOWN_PATH,
    digest,
    published_digests,
)

NAME = "pacc"
TITLE = "PACC (draft-ietf-mailmaint-pacc)"
REQUIRED = ("protocols", "authentication", "info")
# protocol: (role, implicit-TLS port), RFC 8314 sections 3.3 and 7.
TEXT_PROTOCOLS = {"imap": ("incoming", 993), "pop3": ("incoming", 995),
                  "smtp": ("outgoing", 465)}
URL_PROTOCOLS = ("jmap", "caldav", "carddav")
EDIT_NOTE = ("every edit of the domain file changes the digest, so publish the new record"
             " after each edit")


class Malformed(Exception):
    """The document is not what the draft requires; the message says what."""


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise Malformed(f"{where}{key} is {'missing' if value is None else 'not an object'}")
    return value


def _string(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise Malformed(f"{where}.{key} is missing or not a string")
    return value


def parse(body: bytes) -> dict[str, Any]:
    """The document as JSON with the draft's three required members (objects)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Malformed(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise Malformed("not a JSON object")
    for key in REQUIRED:
        _object(document, key, "member ")
    return document


def servers(document: dict[str, Any], address: str) -> tuple[list[Setting], list[str]]:
    """The mail servers it names (as Settings) and the URL services (as lines)."""
    protocols = document["protocols"]
    methods = [m for m in ("password", "oauth-public") if document["authentication"].get(m)]
    authentication = " or ".join(methods)
    settings, urls = [], []
    for name, (role, port) in TEXT_PROTOCOLS.items():
        if name in protocols:
            host = _string(_object(protocols, name, "protocols."), "host", f"protocols.{name}")
            settings.append(Setting(role, name, host, port, "TLS", authentication, address))
    for name in URL_PROTOCOLS:
        if name in protocols:
            url = _string(_object(protocols, name, "protocols."), "url", f"protocols.{name}")
            urls.append(f"{name} {url}")
    return settings, urls


class _NotPublished(Exception):
    """Nothing answers at the PACC name (no DNS name, no connection): PACC is absent."""


def _document(probe: Probe, url: str) -> tuple[bytes, list[Setting], list[str]] | None:
    """The body and what it configures, or None with the failed step recorded."""
    domain = probe.domain
    response = probe.get(url, headers={"Accept": "application/json"})
    if response is None:
        raise _NotPublished
    action = f"GET {url}"
    if response.status != 200:
        probe.verdict.step(action, f"HTTP {response.status}", fix=(
            f"serve {url} (point {HOST_PREFIX}.{domain} at the autoconfig server and put the"
            " name in its certificate; `autoconfig dns records` prints the records)"))
        return None
    try:
        settings, urls = servers(parse(response.body), str(probe.address))
    except Malformed as error:
        probe.verdict.step(action, f"{described(response)}, but the client rejects it: {error}",
                           fix=f"serve the document the autoconfig server renders for {domain}"
                               " (`autoconfig render pacc ADDRESS` shows it)")
        return None
    probe.verdict.step(action, described(response), ok=True)
    return response.body, settings, urls


def probe_client(probe: Probe) -> Verdict:
    """Fetch the document, read it, and accept it only with a matching TXT digest."""
    verdict, domain = probe.verdict, probe.domain
    url = f"https://{HOST_PREFIX}.{domain}{WELL_KNOWN_PATH}"
    try:
        found = _document(probe, url)
    except _NotPublished:  # optional: a domain need not publish PACC, no client needs it yet
        broken = [step for step in verdict.steps if step.serious]
        if broken:  # the name is published, but its server hangs or its certificate fails
            return verdict.warn(
                f"the PACC document cannot be fetched ({broken[0].outcome}): a PACC client"
                " would fall back to other discovery", fix=broken[0].fix)
        return verdict.warn(
            "no PACC document: PACC is optional and today's mail clients do not read it;"
            " they use the other discovery above",
            fix=f"to offer PACC, publish {HOST_PREFIX}.{domain} and its TXT digest"
                " (`autoconfig dns records` prints both)",
        )
    if found is None:
        return verdict.fail("no usable PACC document")
    return _accept(probe, url, *found)


def _accept(probe: Probe, url: str, body: bytes, settings: list[Setting],
            urls: list[str]) -> Verdict:
    """The client's digest check, then what the accepted document configures."""
    verdict, domain = probe.verdict, probe.domain
    txt_name = f"{TXT_LABEL}.{domain}"
    texts = probe.dns(txt_name, "TXT")
    if texts is None:
        return verdict.fail("the digest record could not be read")
    wanted, published = digest(body), published_digests(texts)
    fix = f"publish this TXT record: {pacc_txt_of(domain, body).to_text()} ({EDIT_NOTE})"
    if not published:
        verdict.step(f"DNS TXT {txt_name}", "no v=UAAC1 record: a PACC client rejects the"
                     " document", fix=fix)
        return verdict.warn("no digest record: a PACC client would reject the document and"
                            " fall back to other discovery (PACC is optional; today's mail"
                            " clients do not read it)", fix=fix)
    if wanted not in published:
        verdict.step(f"DNS TXT {txt_name}",
                     f"d={', d='.join(published)}, but the document's SHA-256 is d={wanted}:"
                     " the client rejects it", fix=fix)
        return verdict.fail("the digest does not match: the document is rejected")
    verdict.step(f"DNS TXT {txt_name}", f"d={wanted} matches the document", ok=True)
    verdict.notes.extend(f"also configures {line}" for line in urls)
    if not _complete(settings, urls):
        return verdict.succeed(
            url, settings, "the document names no complete mail account (an incoming and an"
            " outgoing server with implicit TLS, or JMAP): a PACC client would set up no mail"
            " from it", Status.WARNING,
            fix="PACC can only say implicit TLS on the standard ports with the address as"
                " login (`autoconfig check` lists what it leaves out)")
    return verdict.succeed(url, settings, "configured")


def _complete(settings: list[Setting], urls: list[str]) -> bool:
    """Whether a client gets a mail account: JMAP, or an incoming and an outgoing server."""
    roles = {setting.role for setting in settings}
    return any(line.startswith("jmap ") for line in urls) or roles == {"incoming", "outgoing"}
