"""Delta Chat: three autoconfig URLs, then Autodiscover as a plain GET.

Source: chatmail/core ``src/configure.rs`` (``get_autoconfig``, read 2026-11): in this
order https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…,
https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=…,
http://autoconfig.<domain>/…, then https://<domain>/autodiscover/autodiscover.xml and
https://autodiscover.<domain>/… fetched with GET and no body (``auto_outlook.rs``,
following ``RedirectUrl`` up to 10 times), then Thunderbird's ISPDB. The first URL
that gives a document ends the search, even one without usable servers.
``auto_mozilla.rs`` keeps imap/smtp servers with hostname, port and username.
"""

from __future__ import annotations

from autoconfig.probe.clientconfig import Rejected, deltachat_settings, parse_document
from autoconfig.probe.common import CONFIG_PATH, POX_PATH, WELL_KNOWN_PATH, address_query
from autoconfig.probe.fetch import Probe, described
from autoconfig.probe.poxanswer import parse_pox
from autoconfig.probe.result import Setting, Status, Verdict
from autoconfig.probe.thunderbird import CONFIG_FIX, fetch_config

NAME = "deltachat"
TITLE = "Delta Chat"
FOLLOW = 10  # reqwest's default redirect policy
MAX_XML_REDIRECTS = 10


def _complete(settings: list[Setting]) -> bool:
    roles = {s.role for s in settings}
    return roles == {"incoming", "outgoing"}


def _autoconfig(probe: Probe, url: str) -> Verdict | None:
    response = fetch_config(probe, url, follow=FOLLOW)
    if response is None:
        return None
    action = f"GET {response.url}"
    try:
        settings = deltachat_settings(parse_document(response.body), probe.address)
    except Rejected as error:
        probe.verdict.step(action, f"{described(response)}: {error}", fix=CONFIG_FIX)
        return None
    return _end(probe, response.url, settings, described(response))


def _end(probe: Probe, url: str, settings: list[Setting], outcome: str) -> Verdict:
    verdict = probe.verdict
    if not _complete(settings):
        verdict.step(f"GET {url}", f"{outcome}, but no imap and smtp server with hostname, port"
                     " and username: Delta Chat stops here without settings",
                     fix="list an imap and an smtp server with hostname, port and username")
        return verdict.fail(f"stops at {url} without usable servers")
    verdict.step(f"GET {url}", outcome, ok=True)
    if url.startswith("http://"):
        return verdict.succeed(url, settings, "configured from plain http", Status.WARNING,
                               fix="serve the configuration over https")
    return verdict.succeed(url, settings, "configured")


def _autodiscover(probe: Probe, url: str) -> Verdict | None:
    for _ in range(MAX_XML_REDIRECTS):
        response = probe.get(url, follow=FOLLOW)
        if response is None:
            return None
        action = f"GET {response.url}"
        if not 200 <= response.status < 300:
            probe.verdict.step(action, f"HTTP {response.status}",
                               fix="answer GET /autodiscover/autodiscover.xml with the POX"
                                   " settings of the Host's domain (the autoconfig server does)")
            return None
        try:
            answer = parse_pox(response.body)
        except Rejected as error:
            probe.verdict.step(action, f"{described(response)}: {error}", fix=CONFIG_FIX)
            return None
        if answer.action.lower() == "redirecturl" and answer.redirect:
            probe.verdict.step(action, f"RedirectUrl {answer.redirect}", ok=True)
            url = answer.redirect
            continue
        settings = [
            Setting("outgoing" if p.get("Type").upper() == "SMTP" else "incoming",
                    p.get("Type").lower(), p.get("Server"),
                    int(p.get("Port")) if p.get("Port").isdigit() else 0,
                    "automatic" if p.get("SSL", "on") == "on" else "plain", "", "")
            for p in answer.protocols if p.get("Type").upper() in ("IMAP", "SMTP")
        ]
        return _end(probe, response.url, settings, described(response))
    probe.verdict.step(f"GET {url}", f"more than {MAX_XML_REDIRECTS} RedirectUrl answers",
                       fix="point RedirectUrl at the real endpoint")
    return None


def probe_client(probe: Probe) -> Verdict:
    """get_autoconfig() of configure.rs, step by step."""
    domain, query = probe.domain, address_query(probe.address)
    for url in (f"https://autoconfig.{domain}{CONFIG_PATH}{query}",
                f"https://{domain}{WELL_KNOWN_PATH}{query}",
                f"http://autoconfig.{domain}{CONFIG_PATH}{query}"):
        found = _autoconfig(probe, url)
        if found is not None:
            return found
    for url in (f"https://{domain}{POX_PATH}", f"https://autodiscover.{domain}{POX_PATH}"):
        found = _autodiscover(probe, url)
        if found is not None:
            return found
    probe.verdict.notes.append("the ISPDB (autoconfig.thunderbird.net) is not asked by the probe")
    return probe.verdict.fail("no configuration: every autoconfig and Autodiscover URL failed")
