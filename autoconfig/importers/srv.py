"""``import srv``: a domain file from published RFC 6186 / RFC 8314 SRV records.

SRV records name hosts and ports only; the security mode follows from the label
(RFC 6186 section 3, RFC 8314 section 5.1; docs/dns.md#srv-records), while
authentication and login names are not in DNS, so the format's defaults are written
with a comment saying they are assumptions.
"""

from __future__ import annotations

from autoconfig.dns.query import Resolver
from autoconfig.dns.records import SRV_SERVICES, SrvService, SrvTarget
from autoconfig.domains.records import Protocol, Security
from autoconfig.importers import ImportFailedError
from autoconfig.importers.yamltext import Entries, Item, emit_document

Found = dict[str, list[SrvTarget]]


def query_srv(domain: str, resolver: Resolver) -> Found:
    """The SRV targets published under each RFC 6186/8314 label of ``domain``."""
    apex = resolver.lookup(domain, "SOA")
    if not apex.exists:
        raise ImportFailedError(f"{domain} does not exist in DNS (NXDOMAIN)")
    found: Found = {}
    for service in SRV_SERVICES:
        lookup = resolver.lookup(f"{service.label}.{domain}", "SRV")
        found[service.label] = [SrvTarget.from_rdata(r) for r in lookup.records]
    return found


def _security(service: SrvService) -> Security:
    return Security.TLS if Security.TLS in service.securities else Security.STARTTLS


def _server(service: SrvService, target: SrvTarget, domain: str) -> list[Item]:
    notes = []
    if _security(service) is Security.STARTTLS:
        notes.append(f"{service.label} may also mean no TLS at all; assumed STARTTLS (RFC 8314)")
    return [
        Item("protocol", service.protocol.value, notes),
        Item("host", target.host),
        Item("port", target.port),
        Item("security", _security(service).value),
    ]


def _ordered(found: Found, protocols: tuple[Protocol, ...], domain: str) -> list[list[Item]]:
    """RFC 6186 section 3.4: one priority space; ties go to implicit TLS, then weight."""
    entries = [
        (target.priority, _security(service) is not Security.TLS, -target.weight, service, target)
        for service in SRV_SERVICES
        if service.protocol in protocols
        for target in found.get(service.label, [])
        if target.offered
    ]
    entries.sort(key=lambda e: e[:3])
    return [_server(service, target, domain) for *_, service, target in entries]


def srv_to_yaml(domain: str, found: Found) -> str:
    """The domain file for ``domain`` from its SRV targets (pure)."""
    incoming = _ordered(found, (Protocol.IMAP, Protocol.POP3), domain)
    outgoing = _ordered(found, (Protocol.SMTP,), domain)
    if not incoming or not outgoing:
        missing = "_imaps/_imap/_pop3s/_pop3" if not incoming else "_submissions/_submission"
        raise ImportFailedError(
            f"{domain} publishes no {missing} SRV record with a target; nothing to import"
        )
    header = [
        f"Imported from the SRV records of {domain} by `autoconfig import srv`.",
        "DNS says nothing about authentication or login names: every server gets the",
        "format's defaults (auth: password, username: %EMAILADDRESS%); check them with",
        "your provider, then run `autoconfig check` before serving this file.",
    ]
    outside = sorted({
        t.host for targets in found.values() for t in targets
        if t.offered and t.host != domain and not t.host.endswith(f".{domain}")
    })
    if outside:
        header += [
            f"{', '.join(outside)}: not in {domain}; RFC 6186 section 6 tells clients to",
            "distrust such targets, so make sure they are your provider's hosts.",
        ]
    block = [
        Item("name", domain),
        Item("domains", [domain]),
        Item("incoming", Entries(incoming)),
        Item("outgoing", Entries(outgoing)),
    ]
    return emit_document(header, block)
