"""What a served domain should publish in DNS, derived from its domain file (pure).

docs/dns.md: ``autoconfig.``/``autodiscover.`` names pointing at this server,
RFC 6186 SRV records updated by RFC 8314 section 5.1 (``_submissions._tcp``, implicit
TLS given the better priority, target ``.`` for a service not offered) and
``_autodiscover._tcp`` for Outlook (MS-OXDSCLI); PACC's ``ua-auto-config.`` name and
``_ua-auto-config`` TXT digest (draft-ietf-mailmaint-pacc, docs/pacc.md); RFC 6764
``_caldavs._tcp``/``_carddavs._tcp`` SRV records with their ``path=`` TXT records.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dns.rrset

from autoconfig import hosts
from autoconfig.address import EmailAddress
from autoconfig.dns.query import absolute, relative
from autoconfig.domains.records import DomainConfig, Protocol, Security, Server
from autoconfig.render.pacc import HOST_PREFIX as PACC_PREFIX
from autoconfig.render.pacc import TXT_LABEL as PACC_TXT
from autoconfig.render.pacc import render_pacc, txt_value

DEFAULT_TTL = 3600
HOST_PREFIXES = tuple(prefix.rstrip(".") for prefix in (hosts.THUNDERBIRD, hosts.AUTODISCOVER))
AUTODISCOVER_SRV = "_autodiscover._tcp"
HTTPS_PORT = 443


@dataclass(frozen=True, slots=True)
class SrvService:
    """One RFC 6186 / RFC 8314 service label and the servers that provide it."""

    label: str
    protocol: Protocol
    securities: tuple[Security, ...]
    summary: str


# RFC 6186 section 3, RFC 8314 section 5.1 (docs/dns.md#srv-records). Plain
# (security: none) servers share the STARTTLS label: same ports.
SRV_SERVICES: tuple[SrvService, ...] = (
    SrvService("_submissions._tcp", Protocol.SMTP, (Security.TLS,), "SMTP submission, TLS"),
    SrvService(
        "_submission._tcp", Protocol.SMTP, (Security.STARTTLS, Security.NONE),
        "SMTP submission, STARTTLS",
    ),
    SrvService("_imaps._tcp", Protocol.IMAP, (Security.TLS,), "IMAP, TLS"),
    SrvService("_imap._tcp", Protocol.IMAP, (Security.STARTTLS, Security.NONE), "IMAP, STARTTLS"),
    SrvService("_pop3s._tcp", Protocol.POP3, (Security.TLS,), "POP3, TLS"),
    SrvService("_pop3._tcp", Protocol.POP3, (Security.STARTTLS, Security.NONE), "POP3, STARTTLS"),
)


@dataclass(frozen=True, slots=True)
class SrvTarget:
    """The RDATA of one SRV record; ``host`` is ``"."`` for a service not offered."""

    priority: int
    weight: int
    port: int
    host: str

    @classmethod
    def from_rdata(cls, rdata: Any) -> SrvTarget:
        """From a dnspython SRV rdata."""
        target = relative(rdata.target) or "."
        return cls(int(rdata.priority), int(rdata.weight), int(rdata.port), target)

    @property
    def offered(self) -> bool:
        """False for the RFC 2782 "decidedly not available" record (target ``.``)."""
        return self.host != "."

    def rdata(self) -> str:
        """Zone-file RDATA, e.g. ``0 1 993 mail.example.com.``."""
        target = "." if not self.offered else absolute(self.host)
        return f"{self.priority} {self.weight} {self.port} {target}"


NOT_OFFERED = SrvTarget(0, 0, 0, ".")


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record to publish, with a note saying why."""

    name: str
    ttl: int
    rdtype: str
    value: str
    comment: str

    def to_text(self) -> str:
        """The record as one zone-file line (formatted by dnspython)."""
        rrset = dns.rrset.from_text(self.name, self.ttl, "IN", self.rdtype, self.value)
        return rrset.to_text()

    def to_json(self) -> dict[str, Any]:
        """The record for ``--format json``."""
        return {
            "name": self.name, "ttl": self.ttl, "type": self.rdtype,
            "value": self.value, "comment": self.comment,
        }


def _ranked(servers: tuple[Server, ...]) -> list[tuple[int, Server]]:
    """Priorities in one space per direction: implicit TLS first, then the file's order."""
    order = sorted(
        enumerate(servers), key=lambda item: (item[1].security is not Security.TLS, item[0])
    )
    return [(rank, server) for rank, (_, server) in enumerate(order)]


def srv_targets(config: DomainConfig, domain: str) -> dict[str, tuple[SrvTarget, ...]]:
    """Every SRV label with the targets it should hold (``(NOT_OFFERED,)`` if none).

    An SRV target is a host name (RFC 2782): a server the file gives by IP address
    cannot be one, so it is left out, and a label whose servers all are addresses gets
    no record at all (``.`` would say the service is not offered).
    """
    address = EmailAddress("user", domain)
    ranked = _ranked(config.incoming) + _ranked(config.outgoing)
    result: dict[str, tuple[SrvTarget, ...]] = {}
    for service in SRV_SERVICES:
        targets: list[SrvTarget] = []
        by_address = False
        for priority, server in ranked:
            if server.protocol is service.protocol and server.security in service.securities:
                target = SrvTarget(priority, 1, server.port, server.host_for(address))
                if _address_type(target.host):
                    by_address = True
                elif all((t.port, t.host) != (target.port, target.host) for t in targets):
                    targets.append(target)
        if targets or not by_address:
            result[service.label] = tuple(targets) or (NOT_OFFERED,)
    return result


def _address_type(host: str) -> str | None:
    try:
        return "A" if ipaddress.ip_address(host).version == 4 else "AAAA"
    except ValueError:
        return None


def _name_record(name: str, server_host: str, ttl: int, why: str) -> Record:
    """``name`` pointing at this server: a CNAME, or A/AAAA for an address."""
    rdtype = _address_type(server_host) or "CNAME"
    value = server_host if rdtype != "CNAME" else absolute(server_host)
    return Record(absolute(name), ttl, rdtype, value, why)


def host_records(domain: str, server_host: str, ttl: int = DEFAULT_TTL) -> list[Record]:
    """``autoconfig.<domain>`` and ``autodiscover.<domain>`` pointing at this server."""
    records = []
    for prefix in HOST_PREFIXES:
        name = f"{prefix}.{domain}"
        if name == server_host:
            continue  # the server's own name: its A/AAAA records are published already
        client = "Thunderbird and co." if prefix == "autoconfig" else "Outlook"
        why = f"{client}: settings from https://{name}/ (autoconfig docs dns#host-names)"
        records.append(_name_record(name, server_host, ttl, why))
    return records


def quoted(text: str) -> str:
    """A TXT record's RDATA in zone-file form: one quoted string (ours are short ASCII)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pacc_txt(config: DomainConfig, domain: str, ttl: int = DEFAULT_TTL) -> Record:
    """``_ua-auto-config.<domain>``: the digest of the exact PACC document served."""
    return pacc_txt_of(domain, render_pacc(config, domain), ttl)


def pacc_txt_of(domain: str, body: bytes, ttl: int = DEFAULT_TTL) -> Record:
    """The ``_ua-auto-config`` record for a document whose bytes are ``body``."""
    why = ("PACC: SHA-256 of the document; every edit of the domain file changes it"
           " (draft-ietf-mailmaint-pacc, autoconfig docs pacc)")
    return Record(absolute(f"{PACC_TXT}.{domain}"), ttl, "TXT", quoted(txt_value(body)), why)


def pacc_records(
    config: DomainConfig, domain: str, server_host: str, ttl: int = DEFAULT_TTL
) -> list[Record]:
    """PACC's ``ua-auto-config.<domain>`` name and its digest record."""
    name = f"{PACC_PREFIX}.{domain}"
    records = []
    if name != server_host:
        why = f"PACC clients: https://{name}/.well-known/user-agent-configuration.json"
        records.append(_name_record(name, server_host, ttl, why))
    records.append(pacc_txt(config, domain, ttl))
    return records


@dataclass(frozen=True, slots=True)
class DavService:
    """One RFC 6764 service found from a domain file's URL."""

    kind: str  # "caldav" or "carddav"
    label: str  # "_caldavs._tcp"
    target: SrvTarget
    path: str


def dav_services(config: DomainConfig) -> list[DavService]:
    """RFC 6764 section 3: ``_caldavs._tcp``/``_carddavs._tcp`` from the file's https URLs.

    An http:// URL gets none (``check`` already warns about it): the records name TLS.
    """
    services = []
    for kind in ("caldav", "carddav"):
        url: str | None = getattr(config, kind)
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            continue
        target = SrvTarget(0, 1, parts.port or HTTPS_PORT, parts.hostname.rstrip(".").lower())
        services.append(DavService(kind, f"_{kind}s._tcp", target, parts.path or "/"))
    return services


def dav_records(config: DomainConfig, domain: str, ttl: int = DEFAULT_TTL) -> list[Record]:
    """SRV and TXT ``path=`` records (RFC 6764 sections 3 and 4) for calendars and contacts."""
    records = []
    for service in dav_services(config):
        name = absolute(f"{service.label}.{domain}")
        what = "calendars" if service.kind == "caldav" else "contacts"
        records.append(Record(name, ttl, "SRV", service.target.rdata(),
                              f"{service.kind} ({what}) over TLS (RFC 6764 section 3)"))
        records.append(Record(name, ttl, "TXT", quoted(f"path={service.path}"),
                              f"{service.kind} context path (RFC 6764 section 4)"))
    return records


def srv_records(config: DomainConfig, domain: str, ttl: int = DEFAULT_TTL) -> list[Record]:
    """The RFC 6186/8314 SRV records of ``domain`` (``.`` for services not offered)."""
    summaries = {service.label: service.summary for service in SRV_SERVICES}
    records = []
    for label, targets in srv_targets(config, domain).items():
        for target in targets:
            why = summaries[label] + ("" if target.offered else ": not offered")
            records.append(Record(absolute(f"{label}.{domain}"), ttl, "SRV", target.rdata(), why))
    return records


def autodiscover_srv(domain: str, server_host: str, ttl: int = DEFAULT_TTL) -> Record:
    """``_autodiscover._tcp`` for Outlook (MS-OXDSCLI; Outlook ignores the port).

    An SRV target is a host name (RFC 2782): for a ``server_host`` given as an IP
    address it is ``autodiscover.<domain>``, the name whose A/AAAA record
    ``host_records`` publishes with that address.
    """
    host = f"autodiscover.{domain}" if _address_type(server_host) else server_host
    target = SrvTarget(0, 1, HTTPS_PORT, host)
    name = absolute(f"{AUTODISCOVER_SRV}.{domain}")
    return Record(name, ttl, "SRV", target.rdata(), "Outlook Autodiscover (MS-OXDSCLI)")


def records_for(
    config: DomainConfig, domain: str, server_host: str, ttl: int = DEFAULT_TTL
) -> list[Record]:
    """Everything ``domain`` should publish so that every client finds its settings."""
    return [
        *host_records(domain, server_host, ttl),
        *srv_records(config, domain, ttl),
        autodiscover_srv(domain, server_host, ttl),
        *pacc_records(config, domain, server_host, ttl),
        *dav_records(config, domain, ttl),
    ]


def zone_snippet(domain: str, source: str, records: list[Record]) -> str:
    """A zone-file snippet with absolute names, ready to paste into the zone of ``domain``."""
    lines = [f"; autoconfig records for {domain} (from {source})"]
    for record in records:
        lines.append(f"; {record.comment}")
        lines.append(record.to_text())
    return "\n".join(lines) + "\n"
