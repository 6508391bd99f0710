"""Whether this worker should ask the directory now: the back-off of one endpoint.

After an endpoint failure the directory is left alone for ``retry_after`` seconds; the
answers use the domain files' templates meanwhile. When that time is up, exactly one
request (the probe) asks again while every other one keeps answering from the template,
so a directory that is still down costs one request's time budget per period, not the
whole worker's. Only endpoint failures count here (``failures.ENDPOINT_KINDS``): one
domain file's bad search never switches lookups off for the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from autoconfig.directory.failures import DirectoryFailure

# After this long without an answer, /healthz and the log say the directory is failing.
LONG_OUTAGE = 60.0


@dataclass(frozen=True, slots=True)
class Outage:
    """The endpoint's current failure: since when (monotonic seconds), and the last one."""

    since: float
    failure: DirectoryFailure


class EndpointHealth:
    """The back-off state of one directory endpoint in one worker; thread-safe."""

    def __init__(self, retry_after: float, clock: Callable[[], float]) -> None:
        self._retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._outage: Outage | None = None
        self._retry_at = 0.0
        self._probing = False

    def admit(self) -> bool:
        """True: this request may ask the directory (and must report how it went with
        ``answered`` or ``failed``); False: answer from the template."""
        with self._lock:
            if self._outage is None:
                return True
            if self._probing or self._clock() < self._retry_at:
                return False
            self._probing = True
            return True

    def answered(self) -> Outage | None:
        """The directory answered (even "no such entry"); the outage it ends, if any."""
        with self._lock:
            ended, self._outage, self._probing = self._outage, None, False
            return ended

    def failed(self, failure: DirectoryFailure) -> bool:
        """An endpoint failure: back off. True if it starts an outage (log it once)."""
        with self._lock:
            now = self._clock()
            starts = self._outage is None
            since = now if self._outage is None else self._outage.since
            self._outage = Outage(since, failure)
            self._retry_at = now + self._retry_after
            self._probing = False
            return starts

    def outage(self) -> Outage | None:
        """The current outage, None while the directory answers."""
        with self._lock:
            return self._outage

    def failing_for(self) -> float:
        """Seconds since the current outage began (0 while the directory answers)."""
        with self._lock:
            return 0.0 if self._outage is None else self._clock() - self._outage.since
