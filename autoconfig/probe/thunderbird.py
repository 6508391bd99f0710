"""Thunderbird desktop: autoconfig in priority order, the MX fallback, then Autodiscover.

Sources (mozilla/releases-comm-central, mail/components/accountcreation/modules/):
``FindConfig.sys.mjs`` and ``FetchConfig.sys.mjs`` (the four ISP URLs with
``?emailaddress=``, https before http; the MX-based https-only lookup),
``FetchHTTP.sys.mjs`` (2xx only, redirects followed, the body is XML only with a
``text/xml``, ``application/xml`` or ``text/rdf`` Content-Type, 5 s per request),
``readFromXML.sys.mjs`` (see clientconfig.py) and ``ExchangeAutoDiscover.sys.mjs``
(POX POST with Basic auth to autodiscover.<domain> and <domain>, then the http URL
without credentials; SSL/Encryption read by port).
"""

from __future__ import annotations

from autoconfig.probe.clientconfig import Rejected, parse_document, thunderbird_settings
from autoconfig.probe.common import (
    CONFIG_PATH,
    POX_CONTENT_TYPE,
    POX_PATH,
    XML_TYPES,
    address_query,
    autoconfig_urls,
    best_mx,
    pox_request,
)
from autoconfig.probe.fetch import Probe, described
from autoconfig.probe.poxanswer import PoxAnswer, parse_pox
from autoconfig.probe.result import Setting, Status, Verdict
from autoconfig.probe.suffix import base_domain, mx_lookup_domains
from autoconfig.probe.transport import Response

NAME = "thunderbird"
TITLE = "Thunderbird desktop"
FOLLOW = 5
# ExchangeAutoDiscover.sys.mjs: these ports mean STARTTLS, any other means implicit TLS.
_STARTTLS_PORTS = (143, 110, 25, 587)
CONFIG_FIX = ("serve the domain's config-v1.1.xml here (the nginx site in nginx/:"
              " autoconfig docs operating#nginx)")


def fetch_config(
    probe: Probe, url: str, *, follow: int = FOLLOW, check_type: bool = False
) -> Response | None:
    """GET one autoconfig URL, following up to ``follow`` redirects (the client's own
    limit); the answer if it is a 2xx (of an XML type when ``check_type``, as
    Thunderbird desktop requires), else None with the failed step recorded."""
    response = probe.get(url, follow=follow)
    if response is None:
        return None
    action = f"GET {response.url}"
    if not 200 <= response.status < 300:
        probe.verdict.step(action, f"HTTP {response.status}", fix=CONFIG_FIX)
        return None
    if check_type and not response.content_type.startswith(XML_TYPES):
        probe.verdict.step(
            action, f"{described(response)}: Thunderbird reads the body only as text/xml,"
            " application/xml or text/rdf, so this is \"not a config\"",
            fix="serve the file with Content-Type text/xml (a proxy or static file server"
                " in front must keep the server's Content-Type)")
        return None
    return response


def _from_autoconfig(probe: Probe, urls: list[str]) -> tuple[str, list[Setting]] | None:
    for url in urls:
        response = fetch_config(probe, url, check_type=True)
        if response is None:
            continue
        notes: list[str] = []
        try:
            settings = thunderbird_settings(parse_document(response.body), probe.address, notes)
        except Rejected as error:
            probe.verdict.step(f"GET {response.url}", f"{described(response)}, but Thunderbird"
                               f" cannot use it: {error}", fix="run `autoconfig check` on the"
                               " domain file and fix what it reports")
            continue
        probe.verdict.step(f"GET {response.url}", described(response), ok=True)
        probe.verdict.notes.extend(notes)
        return response.url, settings
    return None


def pox_settings(answer: PoxAnswer, probe: Probe) -> list[Setting]:
    """What ExchangeAutoDiscover.sys.mjs makes of the Protocol elements."""
    settings = []
    for protocol in answer.protocols:
        kind = protocol.get("Type").upper()
        if kind not in ("IMAP", "POP3", "SMTP"):
            continue
        port = int(protocol.get("Port")) if protocol.get("Port").isdigit() else 0
        if protocol.get("SSL", "on") == "off" or protocol.get("Encryption") == "None":
            security = "plain"
        else:
            security = "STARTTLS" if port in _STARTTLS_PORTS else "SSL"
        auth = "password-encrypted" if protocol.get("SPA", "on") == "on" else "password-cleartext"
        settings.append(Setting("outgoing" if kind == "SMTP" else "incoming", kind.lower(),
                                protocol.get("Server"), port, security, auth,
                                protocol.get("LoginName") or str(probe.address)))
    return settings


def _pox_post(probe: Probe, url: str) -> PoxAnswer | None:
    response = probe.post(url, pox_request(probe.address), POX_CONTENT_TYPE)
    if response is None:
        return None
    action = f"POST {url}"
    if response.status == 401:
        probe.verdict.step(action, "401: Thunderbird would now send Basic auth (address and"
                           " password); the probe sends no credentials and stops here",
                           fix="answer the POX request without authentication")
        return None
    if response.status != 200:
        probe.verdict.step(action, f"HTTP {response.status}", fix=f"answer POST {POX_PATH}"
                           " (the nginx site in nginx/: autoconfig docs operating#nginx)")
        return None
    try:
        answer = parse_pox(response.body)
    except Rejected as error:
        probe.verdict.step(action, f"{described(response)}: {error}",
                           fix="pass POST /autodiscover/ to the autoconfig server")
        return None
    if answer.error:
        probe.verdict.step(action, f"Autodiscover error: {answer.error}",
                           fix=f"add {probe.domain} to a domain file")
        return None
    probe.verdict.step(action, described(response), ok=True)
    return answer


def _from_autodiscover(probe: Probe) -> tuple[str, list[Setting]] | None:
    domain = probe.domain
    probe.verdict.notes.append("Thunderbird sends Basic auth (address and password) with its"
                               " https Autodiscover POSTs; the probe sends none")
    for url in (f"https://autodiscover.{domain}{POX_PATH}", f"https://{domain}{POX_PATH}"):
        answer = _pox_post(probe, url)
        if answer is not None and pox_settings(answer, probe):
            return url, pox_settings(answer, probe)
    # The http URL is asked without credentials; an https redirect is re-POSTed.
    url = f"http://autodiscover.{domain}{POX_PATH}"
    response = probe.post(url, pox_request(probe.address), POX_CONTENT_TYPE)
    if response is None:
        return None
    location = response.header("Location")
    if response.status in (301, 302, 307, 308) and location.startswith("https://"):
        probe.verdict.step(f"POST {url}", f"{response.status} redirect to {location}", ok=True)
        answer = _pox_post(probe, location)
        if answer is not None and pox_settings(answer, probe):
            return location, pox_settings(answer, probe)
    else:
        probe.verdict.step(f"POST {url}", f"HTTP {response.status}, no redirect to https",
                           fix=f"redirect http://autodiscover.{domain}{POX_PATH} to https")
    return None


def mx_lookup_domains_of(probe: Probe) -> list[str]:
    """The domains of the MX-based lookup (suffix.py says how), with a step saying which."""
    hosts = probe.dns(probe.domain, "MX")
    if not hosts:
        return []
    best = best_mx(hosts)
    domains = mx_lookup_domains(best, probe.domain)
    if domains:
        outcome = f"best MX {best}: tries {', '.join(domains)}"
    elif base_domain(best) is None:
        outcome = (f"best MX {best} is an address or a public suffix: there is no MX-based"
                   " lookup")
    else:
        outcome = (f"best MX {best}: its registrable domain is the mail domain, so there is"
                   " no MX-based lookup")
    probe.verdict.step(f"DNS MX {probe.domain}", outcome, ok=True)
    return domains


def _mx_urls(probe: Probe) -> list[str]:
    query = address_query(probe.address)
    return [f"https://autoconfig.{base}{CONFIG_PATH}{query}"
            for base in mx_lookup_domains_of(probe)]


def probe_client(probe: Probe) -> Verdict:
    """Thunderbird desktop's lookup, in its priority order."""
    verdict = probe.verdict
    found = _from_autoconfig(probe, autoconfig_urls(
        probe.domain, address_query(probe.address), ("https", "http")))
    if found is None:
        found = _from_autoconfig(probe, _mx_urls(probe))
    if found is not None:
        url, settings = found
        if url.startswith("http://"):
            return verdict.succeed(url, settings, "configured from plain http: the address went"
                                   " out in cleartext and the answer could be altered",
                                   Status.WARNING)
        return verdict.succeed(url, settings, "configured from autoconfig")
    verdict.notes.append("the ISPDB (live.thunderbird.net) is not asked by the probe")
    found = _from_autodiscover(probe)
    if found is not None:
        url, settings = found
        return verdict.succeed(url, settings, "autoconfig failed; configured from Exchange"
                               " Autodiscover", Status.WARNING)
    return verdict.fail("no configuration: every autoconfig and Autodiscover URL failed")
