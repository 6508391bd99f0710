"""Outlook: Autodiscover v2 (JSON), then the POX POST sequence of MS-OXDSCLI.

Sources: MS-OXDSCLI 3.1.5 (the candidate URLs in order: https://<domain>/autodiscover/
autodiscover.xml, https://autodiscover.<domain>/..., the unauthenticated http GET whose
302 names the real endpoint, then the ``_autodiscover._tcp`` SRV record, whose port
Outlook ignores), MS-OXDISCO 3.1.5.4 (the http redirect), MS-OXDSCLI 2.2.4 (the
response: ``Action`` settings, ``redirectUrl``/``redirectAddr``, at most 10 redirects;
``Encryption`` overrides ``SSL``; ``SPA`` and ``SSL`` default to on), and docs/autodiscover.md
for the v2 JSON endpoint (``?Email=…&Protocol=AutodiscoverV1`` answers the POX URL).
"""

from __future__ import annotations

import json

from autoconfig.probe.clientconfig import Rejected
from autoconfig.probe.common import POX_CONTENT_TYPE, POX_PATH, address_query, pox_request
from autoconfig.probe.fetch import Probe, described
from autoconfig.probe.poxanswer import PoxAnswer, parse_pox
from autoconfig.probe.result import Setting, Verdict
from autoconfig.probe.transport import Response

NAME = "outlook"
TITLE = "Outlook"
MAX_POX_REDIRECTS = 10
_ENCRYPTION = {"ssl": "SSL", "tls": "STARTTLS", "none": "none", "auto": "auto"}
POX_FIX = "pass POST /autodiscover/autodiscover.xml to the autoconfig server (nginx/)"


def outlook_settings(answer: PoxAnswer) -> list[Setting]:
    """The IMAP, POP3 and SMTP protocols as Outlook reads them."""
    settings = []
    for protocol in answer.protocols:
        kind = protocol.get("Type").upper()
        if kind not in ("IMAP", "POP3", "SMTP"):
            continue
        encryption = protocol.get("Encryption").lower()
        if encryption in _ENCRYPTION:
            security = _ENCRYPTION[encryption]
        else:
            security = "SSL" if protocol.get("SSL", "on") == "on" else "none"
        if protocol.get("AuthRequired", "on") == "off":
            auth = "none"
        else:
            auth = "SPA (NTLM)" if protocol.get("SPA", "on") == "on" else "password"
        port = int(protocol.get("Port")) if protocol.get("Port").isdigit() else 0
        settings.append(Setting("outgoing" if kind == "SMTP" else "incoming", kind.lower(),
                                protocol.get("Server"), port, security, auth,
                                protocol.get("LoginName")))
    return settings


def _judge(probe: Probe, url: str, response: Response) -> PoxAnswer | None:
    """The answer of one POST, if Outlook can act on it; else a failed step."""
    action = f"POST {url}"
    if response.status == 401:
        probe.verdict.step(action, "401: Outlook would now send the user's credentials"
                           " (Basic or NTLM); the probe sends none and stops here",
                           fix="answer the POX request without authentication")
        return None
    if response.status != 200:
        probe.verdict.step(action, f"HTTP {response.status}", fix=POX_FIX)
        return None
    try:
        answer = parse_pox(response.body)
    except Rejected as error:
        probe.verdict.step(action, f"{described(response)}: {error}", fix=POX_FIX)
        return None
    if answer.error:
        probe.verdict.step(action, f"Autodiscover error: {answer.error}",
                           fix=f"add {probe.domain} to a domain file")
        return None
    return answer


def _post(probe: Probe, url: str) -> list[Setting] | None:
    """POST the request, following redirectUrl answers as Outlook does."""
    for _ in range(MAX_POX_REDIRECTS):
        response = probe.post(url, pox_request(probe.address), POX_CONTENT_TYPE)
        answer = _judge(probe, url, response) if response is not None else None
        if response is None or answer is None:
            return None
        if answer.action.lower() == "redirecturl" and answer.redirect.startswith("https://"):
            probe.verdict.step(f"POST {url}", f"redirectUrl to {answer.redirect}", ok=True)
            url = answer.redirect
            continue
        settings = outlook_settings(answer)
        if not settings:
            probe.verdict.step(f"POST {url}", f"{described(response)}, but no IMAP, POP3 or"
                               " SMTP protocol in it", fix=POX_FIX)
            return None
        probe.verdict.step(f"POST {url}", described(response), ok=True)
        return settings
    probe.verdict.step(f"POST {url}", f"more than {MAX_POX_REDIRECTS} redirects",
                       fix="point redirectUrl at the real endpoint")
    return None


def _v2(probe: Probe) -> str | None:
    """The POX URL the v2 JSON endpoint names, if it answers."""
    url = (f"https://autodiscover.{probe.domain}/autodiscover/autodiscover.json"
           f"{address_query(probe.address, 'Email')}&Protocol=AutodiscoverV1")
    response = probe.get(url)
    if response is None:
        return None
    try:
        target = json.loads(response.body).get("Url", "") if response.status == 200 else ""
    except (ValueError, AttributeError):
        target = ""
    if not isinstance(target, str) or not target.startswith("https://"):
        probe.verdict.step(f"GET {url}", f"{described(response)}, no https Url in it",
                           fix="pass GET /autodiscover/autodiscover.json to the autoconfig"
                               " server (nginx/)")
        return None
    probe.verdict.step(f"GET {url}", f"{described(response)}: Url {target}", ok=True)
    return target


def _redirect_probe(probe: Probe) -> str | None:
    """MS-OXDISCO 3.1.5.4: an unauthenticated GET whose 302 names the https endpoint."""
    url = f"http://autodiscover.{probe.domain}{POX_PATH}"
    response = probe.get(url)
    if response is None:
        return None
    location = response.header("Location")
    if response.status == 302 and location.startswith("https://"):
        probe.verdict.step(f"GET {url}", f"302 to {location}: Outlook asks the user whether"
                           " to trust this redirect", ok=True)
        return location
    probe.verdict.step(f"GET {url}", f"HTTP {response.status}, not a 302 to https",
                       fix=f"answer http://autodiscover.{probe.domain}{POX_PATH} with a 302 to"
                           " the https URL (nginx/autoconfig.conf does)")
    return None


def _srv(probe: Probe) -> str | None:
    name = f"_autodiscover._tcp.{probe.domain}"
    records = probe.dns(name, "SRV")
    targets = sorted((int(r.split()[0]), r.split()[3].rstrip(".")) for r in records or [])
    targets = [t for t in targets if t[1]]
    if not targets:
        probe.verdict.step(f"DNS SRV {name}", "no record")
        return None
    host = targets[0][1]
    probe.verdict.step(f"DNS SRV {name}", f"points at {host} (Outlook ignores the port and"
                       " warns when the host is outside the mail domain)", ok=True)
    return f"https://{host}{POX_PATH}"


def probe_client(probe: Probe) -> Verdict:
    """v2 first; then each POX candidate until one answers with settings."""
    verdict = probe.verdict
    candidates = [_v2, lambda p: f"https://{p.domain}{POX_PATH}",
                  lambda p: f"https://autodiscover.{p.domain}{POX_PATH}", _redirect_probe, _srv]
    tried: set[str] = set()
    for candidate in candidates:
        url = candidate(probe)
        if url is None or url.lower() in tried:
            continue
        tried.add(url.lower())
        settings = _post(probe, url)
        if settings is not None:
            return verdict.succeed(url, settings, "configured from Autodiscover (POX)")
    return verdict.fail("no configuration: every Autodiscover candidate failed")
