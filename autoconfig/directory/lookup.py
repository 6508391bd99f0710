"""Who is this address in the directory? A login name (and a name), or None.

Never raises for a directory problem: whatever fails gives None, so the caller answers
with the domain file's template, with the same status as for anyone else. Failures
stay where they belong (``failures``): an endpoint failure backs off every lookup of
this worker for ``retry_after`` seconds (``health``), one file's bad search only that
file's, each logged once. Every lookup ends within the configured timeout
(``endpoint``). Counters go to an ``Observer`` (``/metrics``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from autoconfig.address import EmailAddress
from autoconfig.directory.cache import TtlCache
from autoconfig.directory.connection import import_ldap3
from autoconfig.directory.endpoint import Endpoint
from autoconfig.directory.failures import DirectoryFailure, Kind
from autoconfig.directory.health import LONG_OUTAGE, EndpointHealth
from autoconfig.directory.search import Found, Person, run_search
from autoconfig.domains.records import DirectorySearch
from autoconfig.settings import LdapSettings

log = logging.getLogger("autoconfig")

CACHE_ENTRIES = 10000

# The ``result`` label of autoconfig_directory_lookups: every lookup ends in one.
FOUND, NOT_FOUND, AMBIGUOUS = "found", "not_found", "ambiguous"
MISCONFIGURED, BACKED_OFF, FAILED = "misconfigured", "backed_off", "failed"
LOOKUP_RESULTS = (FOUND, NOT_FOUND, AMBIGUOUS, MISCONFIGURED, BACKED_OFF, FAILED)


class Observer(Protocol):
    """Where lookups are counted (``answers/metrics.py``)."""

    def directory_lookup(self, result: str, cached: bool, seconds: float | None) -> None:
        """One lookup's result; ``seconds`` when the directory was asked."""

    def directory_error(self, kind: str) -> None:
        """One failure, by ``failures.Kind``."""


class _Unobserved:
    def directory_lookup(self, result: str, cached: bool, seconds: float | None) -> None:
        pass

    def directory_error(self, kind: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class DirectoryStatus:
    """What ``/healthz`` says of the directory: where it is and how long it has failed."""

    url: str
    failing_for: float  # seconds; 0 while it answers
    kind: str | None  # the current failure's kind (failures.Kind), None while it answers


class Directory:
    """Lookups with a cache (found and not found), one endpoint and its back-off."""

    def __init__(
        self,
        settings: LdapSettings,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer | None = None,
    ) -> None:
        self._ldap3 = import_ldap3()
        self._settings = settings
        self._endpoint = Endpoint(settings, clock)
        self._health = EndpointHealth(settings.retry_after, clock)
        self._cache: TtlCache[Person | None] = TtlCache(CACHE_ENTRIES, clock)
        self._clock = clock
        self._observer: Observer = observer or _Unobserved()
        self._lock = threading.Lock()
        self._misconfigured: dict[DirectorySearch, float] = {}  # search -> retry at
        self._reported: set[DirectorySearch] = set()  # logged once as a file's mistake
        self._long_outage_logged = False

    @property
    def url(self) -> str:
        return self._settings.url

    def find(
        self, search: DirectorySearch, address: EmailAddress, source: str = ""
    ) -> Person | None:
        """The person ``address`` is, or None (unknown, ambiguous or no answer now).
        ``source`` names the domain file in log lines."""
        key = (search, str(address).lower())
        found, person = self._cache.get(key)
        if found:
            self._observer.directory_lookup(FOUND if person else NOT_FOUND, True, None)
            return person
        if self._search_suspended(search):
            self._observer.directory_lookup(MISCONFIGURED, False, None)
            return None
        if not self._health.admit():
            self._observer.directory_lookup(BACKED_OFF, False, None)
            self._note_long_outage()
            return None
        started = self._clock()
        try:
            outcome = self._endpoint.run(
                lambda connection: run_search(
                    self._ldap3, connection, search, address, self._settings.timeout
                )
            )
        except DirectoryFailure as failure:
            seconds = self._clock() - started
            self._observer.directory_error(failure.kind)
            if failure.endpoint:
                self._observer.directory_lookup(FAILED, False, seconds)
                self._endpoint_failed(failure)
            else:
                self._observer.directory_lookup(MISCONFIGURED, False, seconds)
                self._endpoint_answered()
                self._search_failed(search, failure, source)
            return None
        except Exception as error:  # a bug: let it be a 500, but never keep the probe
            self._health.failed(DirectoryFailure(Kind.CONNECTION, type(error).__name__))
            raise
        seconds = self._clock() - started
        self._endpoint_answered()
        self._search_works(search, source)
        return self._remember(key, search, outcome, seconds, source)

    def _remember(
        self, key: tuple[DirectorySearch, str], search: DirectorySearch, outcome: Found,
        seconds: float, source: str,
    ) -> Person | None:
        person = outcome.person
        if outcome.entries > 1:
            self._observer.directory_lookup(AMBIGUOUS, False, seconds)
            self._report_once(search, "%s: directory: the filter %s matches more than one entry"
                              " under %s; those addresses get the file's login names",
                              source, search.filter, search.base)
        else:
            self._observer.directory_lookup(FOUND if person else NOT_FOUND, False, seconds)
        ttl = self._settings.cache_ttl if person else self._settings.negative_ttl
        self._cache.put(key, person, ttl)
        return person

    # --- one file's search ------------------------------------------------------------

    def _search_suspended(self, search: DirectorySearch) -> bool:
        with self._lock:
            retry_at = self._misconfigured.get(search)
            return retry_at is not None and self._clock() < retry_at

    def _search_failed(self, search: DirectorySearch, failure: DirectoryFailure,
                       source: str) -> None:
        with self._lock:
            self._misconfigured[search] = self._clock() + self._settings.retry_after
        self._report_once(
            search, "%s: directory: the search under %s with %s fails (%s); a configuration"
            " problem of this file only: its users get its login names ('autoconfig check'"
            " validates base and filter)", source, search.base, search.filter, failure.detail,
        )

    def _search_works(self, search: DirectorySearch, source: str) -> None:
        with self._lock:
            if self._misconfigured.pop(search, None) is None:
                return
            self._reported.discard(search)
        log.info("%s: directory: the search under %s works again", source, search.base)

    def _report_once(self, search: DirectorySearch, message: str, *args: object) -> None:
        with self._lock:
            if search in self._reported:
                return
            self._reported.add(search)
        log.error(message, *args)

    # --- the endpoint -------------------------------------------------------------------

    def _endpoint_failed(self, failure: DirectoryFailure) -> None:
        if self._health.failed(failure):
            log.warning(
                "directory %s failed (%s); answering with the domain files' login names"
                " until it is back", self.url, failure,
            )
        self._note_long_outage()

    def _endpoint_answered(self) -> None:
        ended = self._health.answered()
        if ended is not None:
            with self._lock:
                self._long_outage_logged = False
            log.info("directory %s answers again, after %.0f s", self.url,
                     self._clock() - ended.since)

    def _note_long_outage(self) -> None:
        outage = self._health.outage()
        if outage is None or self._clock() - outage.since < LONG_OUTAGE:
            return
        with self._lock:
            if self._long_outage_logged:
                return
            self._long_outage_logged = True
        log.error(
            "directory %s has failed for more than %.0f s (%s); still answering with the"
            " domain files' login names", self.url, LONG_OUTAGE, outage.failure,
        )

    def status(self) -> DirectoryStatus:
        """For ``/healthz``: how long this worker has found the directory failing."""
        outage = self._health.outage()
        if outage is None:
            return DirectoryStatus(self.url, 0.0, None)
        self._note_long_outage()
        return DirectoryStatus(self.url, self._clock() - outage.since, outage.failure.kind)

    def try_bind(self, bases: Sequence[str] = ()) -> tuple[DirectoryFailure | None, dict[str, str]]:
        """Connect and bind once, then read each base (``serve`` at start, ``check
        --online``): the endpoint's failure or None, and what is wrong with each base."""
        try:
            return None, self._endpoint.try_bind(bases)
        except DirectoryFailure as failure:
            return failure, {}

    def close(self) -> None:
        """Close the pooled connections."""
        self._endpoint.close()


def directory_from_settings(
    settings: LdapSettings | None, observer: Observer | None = None
) -> Directory | None:
    """The process's directory, None when none is configured; a SettingsError when one
    is configured but ldap3 is not installed."""
    if settings is None:
        return None
    directory = Directory(settings, observer=observer)
    log.info("login names of files with directory: come from %s", settings.url)
    return directory


__all__ = ["LOOKUP_RESULTS", "Directory", "DirectoryStatus", "Kind", "Observer", "Person"]
