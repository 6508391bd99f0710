"""One place that asks DNS: bounded timeouts, typed answers, clear failures.

``dns check``, ``import srv`` and the MX resolver all query through ``Resolver``,
so they share one timeout policy and one wording for a dead or refusing server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver
import dns.rrset

from autoconfig.address import parse_nameserver

# When a negative answer carries no SOA, cache it this long (seconds).
DEFAULT_NEGATIVE_TTL = 60


class DnsUnavailableError(Exception):
    """The resolver gave no usable answer: timeout, SERVFAIL, REFUSED, no configuration."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer to one question: records, none (NODATA), or no such name (NXDOMAIN)."""

    name: str
    rdtype: str
    exists: bool
    rrset: dns.rrset.RRset | None
    canonical_name: str
    ttl: int

    @property
    def records(self) -> list[Any]:
        """The rdata of the answer (empty for NODATA and NXDOMAIN); dnspython types."""
        return list(self.rrset) if self.rrset is not None else []


def mx_hosts(lookup: Lookup) -> list[tuple[int, str]]:
    """(preference, host) of an MX answer, best first; host ``""`` is a null MX."""
    return sorted((int(r.preference), relative(r.exchange)) for r in lookup.records)


def txt_texts(lookup: Lookup) -> list[str]:
    """Each TXT record as one text: its character-strings joined (RFC 7208 section 3.3)."""
    return [b"".join(r.strings).decode("utf-8", "replace") for r in lookup.records]


def _negative_ttl(response: dns.message.Message | None) -> int:
    """RFC 2308 section 5: the smaller of the SOA's TTL and its MINIMUM field."""
    if response is not None:
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                return int(min(rrset.ttl, rrset[0].minimum))
    return DEFAULT_NEGATIVE_TTL


def absolute(name: str) -> str:
    """``example.com`` -> ``example.com.`` (what zone files and dnspython print)."""
    return name if name.endswith(".") else name + "."


def relative(name: dns.name.Name | str) -> str:
    """A DNS name as our files write it: lower case, no trailing dot."""
    return str(name).rstrip(".").lower()


class Resolver:
    """A stub resolver: the system's, or one ``IP[:PORT]``; no search list, no cache."""

    def __init__(self, nameserver: str | None = None, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self.where = nameserver or "the system resolver"
        try:
            resolver = dns.resolver.Resolver(configure=nameserver is None)
        except dns.exception.DNSException as error:
            raise DnsUnavailableError(f"no system resolver is configured ({error})") from None
        if nameserver is not None:
            address, port = parse_nameserver(nameserver)
            resolver.nameservers = [address]
            resolver.port = port
        resolver.timeout = timeout
        resolver.lifetime = timeout
        resolver.cache = None
        self._resolver = resolver

    def lookup(self, name: str, rdtype: str) -> Lookup:
        """Ask for ``rdtype`` records of ``name``; raise DnsUnavailableError if nobody answers."""
        try:
            answer = self._resolver.resolve(
                absolute(name), rdtype, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN as error:
            qnames = error.qnames()  # type: ignore[no-untyped-call]
            qname = qnames[0] if qnames else dns.name.from_text(name)
            response = error.responses().get(qname)  # type: ignore[no-untyped-call]
            return Lookup(name, rdtype, False, None, relative(qname), _negative_ttl(response))
        except dns.resolver.LifetimeTimeout:
            raise DnsUnavailableError(
                f"no answer from {self.where} within {self.timeout:g} s"
                f" (asking for {rdtype} of {name})"
            ) from None
        except dns.resolver.NoNameservers:
            raise DnsUnavailableError(
                f"{self.where} failed or refused the query for {rdtype} of {name}"
                " (SERVFAIL or REFUSED: is the zone served?)"
            ) from None
        except dns.exception.DNSException as error:
            raise DnsUnavailableError(
                f"asking {self.where} for {rdtype} of {name} failed: {error}"
            ) from None
        rrset = answer.rrset
        ttl = int(rrset.ttl) if rrset is not None else _negative_ttl(answer.response)
        return Lookup(name, rdtype, True, rrset, relative(answer.canonical_name), ttl)
