"""Serving hosted domains by MX: a domain no file lists is served by the file whose
``mx`` patterns match the domain's best MX host (as Thunderbird's own MX fallback
does client-side, docs/thunderbird.md#mx-lookup and docs/dns.md#mx-hosting).

Lookups are made only when some loaded file has ``mx`` patterns, only for
plausible domain names, with a short timeout; answers (negative ones too) are
cached for their TTL in a bounded LRU cache, so a busy domain costs one query per
TTL per worker process. A resolver that fails is left alone for a few seconds.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from autoconfig.dns.query import DnsUnavailableError, Resolver, mx_hosts
from autoconfig.domains.records import DomainConfig
from autoconfig.domains.registry import Registry

log = logging.getLogger("autoconfig")

MIN_TTL = 1  # never cache less than this, even for TTL 0 answers
MAX_TTL = 3600  # nor longer than this, whatever the zone says
MAX_NEGATIVE_TTL = 300  # RFC 2308 suggests caps of hours; be quicker to notice a new MX
FAILURE_BACKOFF = 5.0  # after a timeout/SERVFAIL, skip DNS for this long (all domains)

# An ASCII (A-label) domain with at least two labels and an alphabetic TLD: anything
# else (IP literals, single labels, over-long names) is never sent to DNS.
_PLAUSIBLE = re.compile(
    r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)

PatternTable = tuple[tuple[str, DomainConfig], ...]


def plausible_domain(name: str) -> bool:
    """Whether ``name`` is worth an MX query at all."""
    return _PLAUSIBLE.fullmatch(name) is not None


def mx_matches(host: str, pattern: str) -> bool:
    """``mx1.provider.net`` matches itself and ``*.provider.net`` (any depth)."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def pattern_table(registry: Registry) -> PatternTable:
    """Every (pattern, config) of the loaded files, in load order (first match wins)."""
    return tuple((pattern, config) for config in registry.configs for pattern in config.mx)


class MxResolver:
    """Finds the config serving a domain by its best MX; one per worker process."""

    def __init__(
        self,
        nameserver: str | None = None,
        timeout: float = 2.0,
        max_entries: int = 10000,
        clock: Callable[[], float] = time.monotonic,
        on_lookup: Callable[[str], None] | None = None,
    ) -> None:
        self.nameserver = nameserver
        self.timeout = timeout
        self.max_entries = max(1, max_entries)
        self._clock = clock
        # Told "hit", "miss" (asked DNS, got an answer) or "failure" (the metrics).
        self._on_lookup = on_lookup or (lambda _result: None)
        self._resolver: Resolver | None = None  # made on first use: reads resolv.conf
        self._cache: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._tables: tuple[Registry | None, PatternTable] = (None, ())

    def config_for(self, registry: Registry, domain: str) -> DomainConfig | None:
        """The config whose ``mx`` patterns match ``domain``'s best MX, if any."""
        table = self._table(registry)
        if not table or not plausible_domain(domain):
            return None
        for host in self.best_mx(domain):
            for pattern, config in table:
                if mx_matches(host, pattern):
                    return config
        return None

    def best_mx(self, domain: str) -> tuple[str, ...]:
        """The MX hosts with the lowest preference (cached for the answer's TTL)."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(domain)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(domain)
                self._on_lookup("hit")
                return cached[1]
            if now < self._down_until:
                self._on_lookup("failure")  # DNS failed moments ago: not asked again yet
                return ()
        hosts, ttl = self._query(domain)
        with self._lock:
            self._cache[domain] = (now + ttl, hosts)
            self._cache.move_to_end(domain)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return hosts

    @property
    def cache_size(self) -> int:
        """How many domains are cached right now."""
        return len(self._cache)

    def _table(self, registry: Registry) -> PatternTable:
        cached_registry, table = self._tables
        if cached_registry is not registry:
            table = pattern_table(registry)
            self._tables = (registry, table)
        return table

    def _query(self, domain: str) -> tuple[tuple[str, ...], float]:
        try:
            if self._resolver is None:
                self._resolver = Resolver(self.nameserver, self.timeout)
            lookup = self._resolver.lookup(domain, "MX")
        except DnsUnavailableError as error:
            self._down_until = self._clock() + FAILURE_BACKOFF
            log.warning("MX lookup for %s failed, not asking for %gs: %s",
                        domain, FAILURE_BACKOFF, error)
            self._on_lookup("failure")
            return (), FAILURE_BACKOFF
        self._on_lookup("miss")
        pairs = mx_hosts(lookup)
        if not pairs:
            return (), max(MIN_TTL, min(lookup.ttl, MAX_NEGATIVE_TTL))
        best = tuple(host for preference, host in pairs if preference == pairs[0][0] and host)
        return best, max(MIN_TTL, min(lookup.ttl, MAX_TTL))
