"""One directory server as a worker uses it: connections, and a deadline per lookup.

ldap3's timeouts bound each socket operation, not a lookup: connect, StartTLS, bind and
search each get their own, in whole seconds, and a retry on a fresh connection would
add its own again. So a lookup runs on a small thread pool and the request waits for it
only until its deadline (the configured timeout, once, for everything): a hung
directory costs the request that budget and no more, and the lookup thread is freed
by ldap3's own timeouts afterwards. The threads belong to the process that started
them; a forked worker starts its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from autoconfig.directory.connection import ConnectionPool
from autoconfig.directory.failures import DirectoryFailure, Kind
from autoconfig.settings import LdapSettings

T = TypeVar("T")


class Endpoint:
    """The server ``settings.url`` names: pooled connections and bounded lookups."""

    def __init__(self, settings: LdapSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self._pool = ConnectionPool(settings)
        self._clock = clock
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pid = os.getpid()

    @property
    def url(self) -> str:
        return self.settings.url

    def run(self, search: Callable[[Any], T]) -> T:
        """``search(connection)`` on a bound connection, within the time budget; once
        more on a fresh connection if a pooled one turned out dead and time is left.
        Raises ``DirectoryFailure``."""
        budget = self.settings.timeout
        deadline = self._clock() + budget
        future: Future[T] = self._threads().submit(self._attempt, search, deadline)
        try:
            return future.result(timeout=max(0.0, deadline - self._clock()))
        except FutureTimeout:
            future.cancel()  # not started yet (every thread busy): it never will be
            raise DirectoryFailure(Kind.TIMEOUT, f"no answer within {budget:g} s") from None

    def _attempt(self, search: Callable[[Any], T], deadline: float) -> T:
        pooled = self._pool.has_idle()
        try:
            with self._pool.connection() as connection:
                return search(connection)
        except DirectoryFailure as failure:
            # a pooled connection the server dropped (a restart); nothing else is retried
            if not (pooled and failure.kind is Kind.CONNECTION and self._clock() < deadline):
                raise
        with self._pool.connection(fresh=True) as connection:
            return search(connection)

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                # one thread per pooled connection: a stuck one holds no more than that
                self._executor = ThreadPoolExecutor(
                    self.settings.pool_size, thread_name_prefix="directory"
                )
                self._pid = os.getpid()
            return self._executor

    def try_bind(self, bases: Sequence[str] = ()) -> dict[str, str]:
        """Connect, secure and bind once, then read each base: the problems by base, a
        ``DirectoryFailure`` for the endpoint's. Within the time budget for the bind
        and once more for the bases (``serve`` at start, ``check --online``)."""
        deadline = self.settings.timeout * (2 if bases else 1)
        outcome: list[dict[str, str] | BaseException] = []

        def attempt() -> None:
            try:
                outcome.append(self._pool.try_bind(bases))
            except BaseException as error:  # handed to the caller below
                outcome.append(error)

        # a plain daemon thread, not the pool: the master forks after this
        thread = threading.Thread(target=attempt, name="directory-bind-test", daemon=True)
        thread.start()
        thread.join(deadline)
        if not outcome:
            raise DirectoryFailure(Kind.TIMEOUT, f"no answer within {deadline:g} s")
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def close(self) -> None:
        """Close the pooled connections and let the threads end (tests, commands)."""
        self._pool.close()
        with self._lock:
            if self._executor is not None and self._pid == os.getpid():
                self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
