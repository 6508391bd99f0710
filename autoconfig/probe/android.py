"""Thunderbird for Android: autoconfig without the address, a strict parser, http trust.

Sources (thunderbird/thunderbird-android, feature/autodiscovery/autoconfig/):
``ProviderAutoconfigUrlProvider.kt`` (autoconfig.<domain> then <domain>/.well-known,
https before http, ``emailaddress`` only when configured to include it: the app does
not), ``OkHttpFetcher.kt`` (any 2xx is read, whatever its Content-Type; redirects are
followed; an answer reached over http anywhere in the chain is not trusted, so the
app asks the user before using it), ``RealAutoconfigParser.kt`` (see clientconfig.py)
and ``MxLookupAutoconfigDiscovery.kt`` (the MX-based lookup).
"""

from __future__ import annotations

from autoconfig.probe.clientconfig import Rejected, android_settings, parse_document
from autoconfig.probe.common import CONFIG_PATH, autoconfig_urls
from autoconfig.probe.fetch import Probe, described
from autoconfig.probe.result import Status, Verdict
from autoconfig.probe.thunderbird import fetch_config, mx_lookup_domains_of

NAME = "android"
TITLE = "Thunderbird for Android"
FOLLOW = 20  # OkHttp's limit of follow-ups


def _mx_urls(probe: Probe) -> list[str]:
    return [f"https://autoconfig.{base}{CONFIG_PATH}" for base in mx_lookup_domains_of(probe)]


def probe_client(probe: Probe) -> Verdict:
    """The app's provider URLs, then the MX-based ones; the first usable document wins."""
    for url in autoconfig_urls(probe.domain, "", ("https", "http")):
        found = _try(probe, url)
        if found is not None:
            return found
    for url in _mx_urls(probe):
        found = _try(probe, url)
        if found is not None:
            return found
    return probe.verdict.fail("no usable configuration: every autoconfig URL failed")


def _try(probe: Probe, url: str) -> Verdict | None:
    verdict = probe.verdict
    response = fetch_config(probe, url, follow=FOLLOW)  # any Content-Type (OkHttpFetcher.kt)
    if response is None:
        return None
    action = f"GET {response.url}"
    try:
        settings = android_settings(parse_document(response.body), probe.address)
    except Rejected as error:
        verdict.step(action, f"{described(response)}, but the app rejects the whole"
                     f" document: {error}", fix=_fix(str(error)))
        return None
    verdict.step(action, described(response), ok=True)
    if not all(hop.startswith("https://") for hop in probe.chain):
        return verdict.succeed(response.url, settings, "found over plain http: the app"
                               " asks the user to approve these settings", Status.WARNING,
                               fix="serve the configuration over https")
    return verdict.succeed(response.url, settings, "configured from autoconfig")


def _fix(reason: str) -> str:
    if "socketType" in reason:
        return ("give every imap/smtp server `security: tls` or `starttls` in the domain file:"
                " the app rejects the whole document for one socketType plain")
    return "run `autoconfig check` on the domain file and fix what it reports"
