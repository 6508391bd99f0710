"""Registrable domains from the Public Suffix List, as Thunderbird's MX fallback uses them.

Thunderbird (comm-central ``mail/components/accountcreation/modules/FetchConfig.sys.mjs``,
``fetchConfigForMX``) takes the best MX host, asks Mozilla's effective-TLD service for
its base domain (``Services.eTLD.getBaseDomainFromHost``: the public suffix plus one
label) and stops if that is the mail domain itself; otherwise it tries the MX host
without its first label (``getNextSubDomain``), when that differs from the base
domain, and then the base domain. Both calls throw for an IP address and for a host
that is itself a public suffix or a base domain with no label to remove; the MX
lookup then asks nothing. Thunderbird for Android does the same
(``MxLookupAutoconfigDiscovery.kt``, ``RealSubDomainExtractor.kt``, with OkHttp's
copy of the list).

The list is the one the ``publicsuffixlist`` package ships (both its ICANN and
private sections, as Mozilla's service uses them); nothing is downloaded at run time.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from publicsuffixlist import PublicSuffixList


@cache
def _list() -> PublicSuffixList:
    return PublicSuffixList()  # parses the bundled list once (about 0.1 s)


def _normal(host: str) -> str:
    return host.rstrip(".").lower()


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def is_public_suffix(name: str) -> bool:
    """Whether ``name`` is a public suffix (``com``, ``co.uk``, ``github.io``)."""
    name = _normal(name)
    return not _is_address(name) and bool(_list().is_public(name))


def base_domain(host: str) -> str | None:
    """``getBaseDomainFromHost``: the registrable domain, None where Thunderbird's throws."""
    host = _normal(host)
    if not host or _is_address(host):
        return None
    found = _list().privatesuffix(host)
    return str(found) if found else None


def next_sub_domain(host: str) -> str | None:
    """``getNextSubDomain``: ``host`` without its first label, never shorter than its base."""
    host = _normal(host)
    base = base_domain(host)
    if base is None or base == host:
        return None
    return host.partition(".")[2]


def mx_lookup_domains(mx_host: str, domain: str) -> list[str]:
    """The domains whose ``autoconfig.`` Thunderbird asks after the MX lookup, in order.

    ``mx1.eu.hoster.co.uk`` gives ``eu.hoster.co.uk`` then ``hoster.co.uk``; an MX host
    under the mail domain (``mail.shop.co.uk`` for ``shop.co.uk``) gives none.
    """
    base = base_domain(mx_host)
    if base is None or base == _normal(domain):
        return []
    sub = next_sub_domain(mx_host)
    return [sub, base] if sub is not None and sub != base else [base]
