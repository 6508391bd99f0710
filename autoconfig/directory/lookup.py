"""Who is this address in the directory? A login name (and a name), or None.

Never raises for a directory problem: a directory that is slow, down or refuses the
bind gives None, so the caller answers with the domain file's template, with the same
status as for anyone else (no mailbox enumeration through this server). One log line
when the directory fails and one when it is back; in between it is not asked for
``retry_after`` seconds at a time, so clients are not kept waiting on every request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoconfig.address import EmailAddress
from autoconfig.directory.cache import TtlCache
from autoconfig.directory.connection import ConnectionPool, import_ldap3
from autoconfig.domains.records import (
    PLACEHOLDER_ADDRESS,
    PLACEHOLDER_DOMAIN,
    PLACEHOLDER_LOCALPART,
    DirectorySearch,
)
from autoconfig.settings import LdapSettings

log = logging.getLogger("autoconfig")

CACHE_ENTRIES = 10000
# At most this many entries are read: one means the user, two that the filter is ambiguous.
SIZE_LIMIT = 2


@dataclass(frozen=True, slots=True)
class Person:
    """What the directory says about one address."""

    login: str
    name: str | None = None


def search_filter(
    search: DirectorySearch, address: EmailAddress, escape: Callable[[str], str]
) -> str:
    """The file's filter with each placeholder replaced by that part of the address,
    escaped as RFC 4515 section 3 requires (``*``, ``(``, ``)``, ``\\``, NUL), so an
    address such as ``*)(uid=*@example.org`` matches only itself."""
    return (
        search.filter.replace(PLACEHOLDER_ADDRESS, escape(str(address)))
        .replace(PLACEHOLDER_LOCALPART, escape(address.local))
        .replace(PLACEHOLDER_DOMAIN, escape(address.domain))
    )


def _first_value(attributes: dict[str, Any], name: str) -> str | None:
    """The first value of ``name`` (attribute names are case-insensitive), as text."""
    for key, values in attributes.items():
        if key.lower() == name.lower() and values:
            value = values[0]
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return None


class Directory:
    """Lookups with a cache (found and not found), a connection pool and a back-off."""

    def __init__(self, settings: LdapSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._ldap3 = import_ldap3()
        self._settings = settings
        self._pool = ConnectionPool(settings)
        self._cache: TtlCache[Person | None] = TtlCache(CACHE_ENTRIES, clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until: float | None = None  # None: the directory answers

    @property
    def url(self) -> str:
        return self._settings.url

    def find(self, search: DirectorySearch, address: EmailAddress) -> Person | None:
        """The person ``address`` is, or None (unknown, ambiguous or no directory now)."""
        key = (search, str(address).lower())
        found, person = self._cache.get(key)
        if found:
            return person
        with self._lock:
            if self._down_until is not None and self._clock() < self._down_until:
                return None
        pooled = self._pool.has_idle()
        try:
            try:
                person = self._search(search, address)
            except Exception:
                if not pooled:
                    raise
                # a pooled connection the directory dropped (a restart): once more, fresh
                person = self._search(search, address, fresh=True)
        except Exception as error:  # any directory failure degrades; never a 500
            self._failed(error)
            return None
        self._answered()
        ttl = self._settings.cache_ttl if person else self._settings.negative_ttl
        self._cache.put(key, person, ttl)
        return person

    def _search(
        self, search: DirectorySearch, address: EmailAddress, *, fresh: bool = False
    ) -> Person | None:
        escape = self._ldap3.utils.conv.escape_filter_chars
        attributes = [search.login_attribute]
        if search.name_attribute:
            attributes.append(search.name_attribute)
        with self._pool.connection(fresh=fresh) as connection:
            connection.search(
                search.base,
                search_filter(search, address, escape),
                search_scope=self._ldap3.SUBTREE,
                attributes=attributes,
                size_limit=SIZE_LIMIT,
                time_limit=max(1, math.ceil(self._settings.timeout)),
            )
            entries = [e for e in connection.response or () if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            if entries:
                log.warning("directory: %s matches more than one entry under %s; using the"
                            " domain file's login name", search.filter, search.base)
            return None
        raw = entries[0].get("raw_attributes", {})
        login = _first_value(raw, search.login_attribute)
        if not login:
            return None
        name = _first_value(raw, search.name_attribute) if search.name_attribute else None
        return Person(login, name or None)

    def _failed(self, error: Exception) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = self._clock() + self._settings.retry_after
        if first:
            log.warning(
                "directory %s failed (%s: %s); answering with the domain files' login names"
                " until it is back", self.url, type(error).__name__, error,
            )

    def _answered(self) -> None:
        with self._lock:
            was_down = self._down_until is not None
            self._down_until = None
        if was_down:
            log.info("directory %s answers again", self.url)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.close()


def directory_from_settings(settings: LdapSettings | None) -> Directory | None:
    """The process's directory, None when none is configured; a SettingsError when one
    is configured but ldap3 is not installed."""
    if settings is None:
        return None
    directory = Directory(settings)
    log.info("login names of files with directory: come from %s", settings.url)
    return directory
