"""``dns check``: compare what a domain publishes with what its domain file says.

Each finding is one line (ok, warning or error) naming the DNS name and, for a
problem, the fix, usually the exact record to publish (docs/dns.md; its SRV section,
docs/dns.md#srv-records, has the classic ``_submission._tcp`` on port 465 mistake).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from autoconfig.dns.query import Lookup, Resolver, mx_hosts, txt_texts
from autoconfig.dns.records import (
    AUTODISCOVER_SRV,
    HOST_PREFIXES,
    HTTPS_PORT,
    SRV_SERVICES,
    DavService,
    Record,
    SrvTarget,
    autodiscover_srv,
    dav_services,
    host_records,
    pacc_records,
    pacc_txt_of,
    quoted,
    srv_targets,
)
from autoconfig.domains.records import STANDARD_PORTS, DomainConfig, Security
from autoconfig.render.pacc import HOST_PREFIX as PACC_PREFIX
from autoconfig.render.pacc import TXT_LABEL as PACC_TXT
from autoconfig.render.pacc import WELL_KNOWN_PATH, digest, published_digests, render_pacc


class Severity(StrEnum):
    """How bad a finding is; errors make ``dns check`` exit non-zero."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of ``dns check`` output."""

    severity: Severity
    name: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.severity}: {self.name}: {self.message}"
        return f"{text}; fix: {self.fix}" if self.fix else text

    def to_json(self) -> dict[str, Any]:
        """The finding for ``--format json``."""
        return {
            "severity": str(self.severity), "name": self.name,
            "message": self.message, "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """``--tls``: which port to connect to and which CA file to trust (default: system)."""

    port: int = HTTPS_PORT
    cafile: Path | None = None
    timeout: float = 5.0


# Implicit-TLS SRV label -> its STARTTLS sibling (RFC 8314: implicit TLS preferred).
_TLS_PAIRS = (
    ("_submissions._tcp", "_submission._tcp"),
    ("_imaps._tcp", "_imap._tcp"),
    ("_pop3s._tcp", "_pop3._tcp"),
)


def _publish(records: list[Record]) -> str:
    return "publish " + " and ".join(f"`{r.to_text()}`" for r in records)


def _srv_text(name: str, targets: tuple[SrvTarget, ...]) -> str:
    return " and ".join(f"`{name}. IN SRV {t.rdata()}`" for t in targets)


def _actual_srv(lookup: Lookup) -> list[SrvTarget]:
    return [SrvTarget.from_rdata(r) for r in lookup.records]


def _check_mx(domain: str, lookup: Lookup) -> Iterator[Finding]:
    if not lookup.exists:
        yield Finding(
            Severity.ERROR, domain, "the domain does not exist in DNS (NXDOMAIN)",
            "check the spelling, the delegation of the domain and that its zone is served",
        )
        return
    hosts = mx_hosts(lookup)
    if not hosts:
        yield Finding(
            Severity.ERROR, domain, "no MX record: mail servers and clients' MX-based lookup"
            " cannot find the mail host",
            f"publish `{domain}. 3600 IN MX 10 <your mail exchanger>.`",
        )
    elif not hosts[0][1]:
        yield Finding(
            Severity.ERROR, domain, "null MX (RFC 7505): the domain says it accepts no mail",
            "replace `MX 0 .` with the domain's real mail exchanger",
        )
    else:
        yield Finding(Severity.OK, domain, f"best MX is {hosts[0][1]} (preference {hosts[0][0]})")


def _addresses(resolver: Resolver, name: str, a: Lookup | None = None) -> set[str]:
    """The IPv4 and IPv6 addresses of ``name`` (reusing an A lookup already made)."""
    a = a or resolver.lookup(name, "A")
    return {str(r) for r in (*a.records, *resolver.lookup(name, "AAAA").records)}


def _literal_address(host: str) -> str | None:
    """``host`` as an address, when ``--server-host`` gave one rather than a name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _check_host(
    domain: str, prefix: str, resolver: Resolver, server_host: str | None
) -> Iterator[Finding]:
    name = f"{prefix}.{domain}"
    if name == server_host:
        yield Finding(Severity.OK, name, "is the autoconfig server itself")
        return
    fix = (
        _publish([r for r in host_records(domain, server_host) if r.name == f"{name}."])
        if server_host
        else "publish an A/AAAA record or a CNAME pointing at the autoconfig server"
    )
    a = resolver.lookup(name, "A")
    if not a.exists:
        yield Finding(Severity.ERROR, name, "does not exist (NXDOMAIN)", fix)
        return
    canonical = a.canonical_name
    if server_host and canonical == server_host:
        yield Finding(Severity.OK, name, f"is a CNAME for {server_host}")
        return
    addresses = _addresses(resolver, name, a)
    if not addresses:
        via = f" (CNAME for {canonical})" if canonical != name else ""
        yield Finding(Severity.ERROR, name, f"has no A or AAAA record{via}", fix)
        return
    shown = ", ".join(sorted(addresses))
    if server_host is None:
        yield Finding(Severity.OK, name, f"resolves to {shown}")
        return
    literal = _literal_address(server_host)
    if addresses & ({literal} if literal else _addresses(resolver, server_host)):
        how = "the autoconfig server's address" if literal else f"as {server_host} does"
        yield Finding(Severity.OK, name, f"resolves to {shown}, {how}")
    else:
        yield Finding(
            Severity.ERROR, name,
            f"resolves to {shown}, not to the autoconfig server {server_host}", fix,
        )


def _wrong_target_message(label: str, target: SrvTarget, expected: list[SrvTarget]) -> str:
    said = ", ".join(f"{t.host}:{t.port}" for t in expected)
    starttls = next((s for s in SRV_SERVICES if s.label == label), None)
    if starttls is not None and Security.TLS not in starttls.securities:
        implicit = STANDARD_PORTS[(starttls.protocol, Security.TLS)]
        if target.port == implicit:
            tls_label = next(t for t, s in _TLS_PAIRS if s == label)
            return (
                f"points at port {implicit}, which speaks implicit TLS: clients following"
                f" {label} expect STARTTLS there and fail (RFC 8314 publishes port"
                f" {implicit} as {tls_label}); the domain file says {said}"
            )
    return f"points at {target.host}:{target.port}; the domain file says {said}"


def _compare_srv(
    name: str, label: str, expected: tuple[SrvTarget, ...], lookup: Lookup
) -> Iterator[Finding]:
    actual = _actual_srv(lookup)
    offered = [t for t in expected if t.offered]
    should = _srv_text(name, expected)
    if not actual:
        if offered:
            yield Finding(Severity.WARNING, name, "missing (optional: RFC 6186 clients use it)",
                          f"publish {should}")
        else:
            yield Finding(Severity.OK, name, "not offered and not published")
        return
    published = [t for t in actual if t.offered]
    if not offered:
        for target in published:
            yield Finding(
                Severity.ERROR, name,
                f"advertises {target.host}:{target.port}, but the domain file offers no"
                " such service", f"publish {should} instead, or add the server to the file",
            )
        if not published:
            yield Finding(Severity.OK, name, "published as not offered (target .)")
        return
    if not published:
        yield Finding(Severity.ERROR, name, "says the service is not offered (target .),"
                      " but the domain file offers it", f"publish {should} instead")
        return
    wanted = {(t.host, t.port) for t in offered}
    wrong = [t for t in published if (t.host, t.port) not in wanted]
    for target in wrong:
        yield Finding(Severity.ERROR, name, _wrong_target_message(label, target, offered),
                      f"replace it with {should}")
    have = {(t.host, t.port) for t in published}
    missing = tuple(t for t in offered if (t.host, t.port) not in have)
    if missing and not wrong:
        yield Finding(Severity.WARNING, name, "lacks some servers of the domain file",
                      f"also publish {_srv_text(name, missing)}")
    if not wrong and not missing:
        shown = ", ".join(f"{t.host}:{t.port}" for t in published)
        yield Finding(Severity.OK, name, f"points at {shown}")


def _check_priorities(domain: str, found: dict[str, list[SrvTarget]]) -> Iterator[Finding]:
    for tls_label, starttls_label in _TLS_PAIRS:
        tls = [t.priority for t in found.get(tls_label, []) if t.offered]
        plain = [t.priority for t in found.get(starttls_label, []) if t.offered]
        if tls and plain and min(plain) < min(tls):
            yield Finding(
                Severity.WARNING, f"{tls_label}.{domain}",
                f"{starttls_label} has the better (lower) priority; RFC 8314 prefers"
                " implicit TLS", f"give {tls_label} a lower priority than {starttls_label}",
            )


def _check_autodiscover_srv(
    domain: str, resolver: Resolver, server_host: str | None
) -> Iterator[Finding]:
    name = f"{AUTODISCOVER_SRV}.{domain}"
    actual = [t for t in _actual_srv(resolver.lookup(name, "SRV")) if t.offered]
    fix = (
        f"publish `{autodiscover_srv(domain, server_host).to_text()}`"
        if server_host else f"publish `{name}. IN SRV 0 1 443 <autoconfig server>.`"
    )
    if not actual:
        yield Finding(Severity.WARNING, name, "missing (optional: Outlook tries"
                      f" autodiscover.{domain} first)", fix)
        return
    for target in actual:
        if server_host and target.host != server_host:
            yield Finding(Severity.ERROR, name,
                          f"points at {target.host}, not the autoconfig server {server_host}", fix)
        elif target.port != HTTPS_PORT:
            yield Finding(Severity.WARNING, name, f"port {target.port}: Outlook ignores the"
                          " port and always connects to 443 (autoconfig docs dns#srv-records)", fix)
        else:
            yield Finding(Severity.OK, name, f"points at {target.host}:{target.port}")


def _check_certificate(
    name: str, resolver: Resolver, options: TlsOptions
) -> Iterator[Finding]:
    addresses = _addresses(resolver, name)
    if not addresses:
        return  # already reported by the host check
    address = sorted(addresses)[0]
    context = ssl.create_default_context(cafile=str(options.cafile) if options.cafile else None)
    fix = (
        f"get a certificate that names {name} (autoconfig docs dns#certificates: a wildcard"
        " for a parent domain covers one label only)"
    )
    try:
        with (
            socket.create_connection((address, options.port), timeout=options.timeout) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            certificate = tls.getpeercert() or {}
    except ssl.SSLCertVerificationError as error:
        yield Finding(Severity.ERROR, name, f"certificate not valid: {error.verify_message}", fix)
        return
    except (OSError, ssl.SSLError) as error:
        yield Finding(
            Severity.ERROR, name, f"no TLS at {address} port {options.port}: {error}",
            "make the web server answer https for this name",
        )
        return
    yield Finding(Severity.OK, name,
                  f"certificate valid, expires {certificate.get('notAfter', 'unknown')}")


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to one resolved address, with SNI and certificate check for the name."""

    def __init__(self, name: str, address: str, options: TlsOptions) -> None:
        cafile = str(options.cafile) if options.cafile else None
        context = ssl.create_default_context(cafile=cafile)
        super().__init__(name, options.port, timeout=options.timeout, context=context)
        self._address = address
        self._context = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def fetch_pacc(name: str, resolver: Resolver, options: TlsOptions) -> bytes:
    """GET the PACC document from ``https://name/`` as a client does; OSError says why not."""
    addresses = _addresses(resolver, name)
    if not addresses:
        raise OSError(f"{name} has no address")
    connection = _PinnedHTTPS(name, sorted(addresses)[0], options)
    try:
        connection.request("GET", WELL_KNOWN_PATH, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(1_000_000)
    except (http.client.HTTPException, ssl.SSLError) as error:
        raise OSError(str(error) or type(error).__name__) from None
    finally:
        connection.close()
    if response.status != 200:
        raise OSError(f"HTTP {response.status} {response.reason}")
    return body


@dataclass(frozen=True, slots=True)
class _PaccBytes:
    """The document whose digest DNS must hold, and where it came from."""

    body: bytes
    source: str


def _pacc_bytes(
    config: DomainConfig, domain: str, resolver: Resolver, tls: TlsOptions | None
) -> tuple[_PaccBytes, list[Finding]]:
    """What the server sends (with ``--tls``), else the document the file renders."""
    local = _PaccBytes(render_pacc(config, domain), "the document the domain file renders")
    if tls is None:
        return local, []
    name = f"{PACC_PREFIX}.{domain}"
    url = f"https://{name}{WELL_KNOWN_PATH}"
    try:
        served = fetch_pacc(name, resolver, tls)
    except OSError as error:
        return local, [Finding(Severity.ERROR, name, f"cannot fetch {url}: {error}",
                               "make the autoconfig server answer https for this name")]
    if served == local.body:
        finding = Finding(Severity.OK, name, f"{url} sends the document of the file")
    else:
        finding = Finding(
            Severity.WARNING, name,
            f"{url} sends other bytes (d={digest(served)}) than the domain file here renders"
            f" (d={digest(local.body)}): the server has not loaded this version of the file",
            "reload the server with this file, or check against the files it serves",
        )
    return _PaccBytes(served, f"the document {url} sends"), [finding]


def _check_pacc(
    config: DomainConfig, domain: str, resolver: Resolver, server_host: str | None,
    tls: TlsOptions | None,
) -> Iterator[Finding]:
    """PACC (docs/pacc.md): the name, and the TXT digest of the exact document."""
    txt_name = f"{PACC_TXT}.{domain}"
    published = published_digests(txt_texts(resolver.lookup(txt_name, "TXT")))
    name_exists = resolver.lookup(f"{PACC_PREFIX}.{domain}", "A").exists
    if not published and not name_exists:
        yield Finding(Severity.OK, txt_name, "PACC not published (optional: no shipping client"
                      " reads it yet; `autoconfig dns records` prints the records)")
        return
    if server_host:
        yield from _check_pacc_host(config, domain, resolver, server_host)
    else:
        yield from _check_host(domain, PACC_PREFIX, resolver, server_host)
    if tls is not None:
        yield from _check_certificate(f"{PACC_PREFIX}.{domain}", resolver, tls)
    document, fetched = _pacc_bytes(config, domain, resolver, tls)
    yield from fetched
    wanted = digest(document.body)
    publish = f"`{pacc_txt_of(domain, document.body).to_text()}`"
    if not published:
        yield Finding(Severity.ERROR, txt_name, "missing: PACC clients reject the document"
                      " without the digest record", f"publish {publish}")
    elif wanted in published:
        yield Finding(Severity.OK, txt_name, f"matches the SHA-256 of {document.source}")
    else:
        yield Finding(
            Severity.ERROR, txt_name,
            f"publishes d={', d='.join(published)}, but {document.source} has d={wanted}, so"
            " PACC clients reject it (every edit of the domain file changes the digest)",
            f"replace it with {publish}",
        )


def _check_pacc_host(
    config: DomainConfig, domain: str, resolver: Resolver, server_host: str
) -> Iterator[Finding]:
    """``_check_host`` for ``ua-auto-config.``, with the record from ``pacc_records``."""
    name_record = pacc_records(config, domain, server_host)[0]
    for found in _check_host(domain, PACC_PREFIX, resolver, server_host):
        if found.fix.startswith("publish"):
            yield Finding(found.severity, found.name, found.message, _publish([name_record]))
        else:
            yield found


def _dav_fix(service: DavService, name: str) -> str:
    return (f"publish `{name}. IN SRV {service.target.rdata()}` and"
            f" `{name}. IN TXT {quoted('path=' + service.path)}`")


def _check_dav(config: DomainConfig, domain: str, resolver: Resolver) -> Iterator[Finding]:
    """RFC 6764 SRV and ``path=`` TXT records for the file's CalDAV/CardDAV URLs."""
    for service in dav_services(config):
        name = f"{service.label}.{domain}"
        targets = [t for t in _actual_srv(resolver.lookup(name, "SRV")) if t.offered]
        paths = [t.removeprefix("path=") for t in txt_texts(resolver.lookup(name, "TXT"))
                 if t.startswith("path=")]
        want = service.target
        if not targets and not paths:
            yield Finding(Severity.WARNING, name, f"missing (optional: clients such as"
                          f" Thunderbird find {service.kind} with it, RFC 6764)",
                          _dav_fix(service, name))
            continue
        wrong = [t for t in targets if (t.host, t.port) != (want.host, want.port)]
        if not targets or wrong:
            shown = ", ".join(f"{t.host}:{t.port}" for t in targets) or "no server"
            yield Finding(Severity.ERROR, name, f"names {shown}; the domain file's {service.kind}"
                          f" URL is on {want.host}:{want.port}", _dav_fix(service, name))
        elif paths != [service.path]:
            shown = ", ".join(paths) or "no path= record"
            yield Finding(Severity.ERROR, name, f"path is {shown}; the domain file's"
                          f" {service.kind} URL has {service.path}", _dav_fix(service, name))
        else:
            yield Finding(Severity.OK, name,
                          f"points at {want.host}:{want.port}, path {service.path}")


def check_domain(
    config: DomainConfig,
    domain: str,
    resolver: Resolver,
    server_host: str | None = None,
    tls: TlsOptions | None = None,
) -> list[Finding]:
    """Every finding for ``domain``; raises DnsUnavailableError if DNS does not answer."""
    mx = resolver.lookup(domain, "MX")
    findings = list(_check_mx(domain, mx))
    if not mx.exists:
        return findings
    for prefix in HOST_PREFIXES:
        findings.extend(_check_host(domain, prefix, resolver, server_host))
    found: dict[str, list[SrvTarget]] = {}
    for label, expected in srv_targets(config, domain).items():
        name = f"{label}.{domain}"
        lookup = resolver.lookup(name, "SRV")
        found[label] = _actual_srv(lookup)
        findings.extend(_compare_srv(name, label, expected, lookup))
    findings.extend(_check_priorities(domain, found))
    findings.extend(_check_autodiscover_srv(domain, resolver, server_host))
    if tls is not None:
        for prefix in HOST_PREFIXES:
            findings.extend(_check_certificate(f"{prefix}.{domain}", resolver, tls))
    findings.extend(_check_pacc(config, domain, resolver, server_host, tls))
    findings.extend(_check_dav(config, domain, resolver))
    return findings
