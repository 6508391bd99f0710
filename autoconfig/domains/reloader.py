"""The snapshot a process serves, and replacing it when the domain files change.

One reference is swapped per accepted reload, so a request reads either the old snapshot or
the new one, never half of each, and never waits. A reload that would serve nothing is
refused: the last good snapshot keeps serving, and the refusal is logged once, not at every
later look at the same files. When to look is the watcher's business (``watch.py``), in
which thread and process the follower's (``follow.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from autoconfig.domains.registry import NoValidDomainsError, Registry, require_domains
from autoconfig.domains.snapshot import (
    Signature,
    Snapshot,
    build_snapshot,
    directory_signature,
    log_registry,
    restamped,
)

log = logging.getLogger("autoconfig")


class LoadObserver(Protocol):
    """Told about every load (the metrics): accepted with its duration, or refused."""

    def loaded(self, registry: Registry, seconds: float, generation: int) -> None:
        """A load was accepted; ``generation`` counts them in this process, from 1."""

    def refused(self) -> None:
        """A reload was refused; the last good configuration keeps serving."""


class Reloader:
    """Holds the current snapshot and its generation; ``reload_if_changed`` replaces them.

    ``snapshot`` and ``generation`` are plain attributes: requests read them without a
    lock, and only a reload (one at a time) assigns them.
    """

    def __init__(
        self,
        directory: Path,
        snapshot: Snapshot,
        observer: LoadObserver | None = None,
        load_seconds: float = 0.0,
    ) -> None:
        """Start from ``snapshot``, the start-up load (generation 1), which took
        ``load_seconds``; ``observer`` hears of it and of every reload after it."""
        self.directory = directory
        self.snapshot = snapshot
        self.generation = 1
        self._observer = observer
        self._refused: Signature | None = None
        self._lock = threading.Lock()
        if observer is not None:
            observer.loaded(snapshot.registry, load_seconds, self.generation)

    def reload_if_changed(
        self, names: frozenset[str] | None = None, started: Callable[[], None] | None = None
    ) -> bool:
        """Rebuild if the files changed; one thread does it while the others keep serving.

        ``names``: the only files that may have changed (reported by inotify), so that
        not every file is stat-ed again; None checks them all. ``started`` runs when
        changed files are about to be read. True when a new snapshot is served.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if names is None:
                signature = directory_signature(self.directory)
            else:
                signature = restamped(self.snapshot.signature, self.directory, names)
            if signature in (self.snapshot.signature, self._refused):  # dicts: compared in C
                return False
            if started is not None:
                started()
            return self._reload(signature, names)
        finally:
            self._lock.release()

    def forked(self) -> None:
        """Call in a child process right after a fork: the thread that may have held the
        lock at that moment does not exist here, so the inherited lock may never open."""
        self._lock = threading.Lock()

    def _reload(self, signature: Signature, hint: frozenset[str] | None) -> bool:
        started = time.perf_counter()
        try:
            snapshot = build_snapshot(self.directory, self.snapshot, signature, hint=hint)
            require_domains(snapshot.registry, self.directory)
        except NoValidDomainsError as error:
            log.error("reload refused, the last good configuration keeps serving: %s", error)
            self._refused = signature  # report once, not at every check
            if self._observer is not None:
                self._observer.refused()
            return False
        log_registry(snapshot.registry)
        self.snapshot = snapshot
        self.generation += 1
        if self._observer is not None:
            self._observer.loaded(
                snapshot.registry, time.perf_counter() - started, self.generation
            )
        return True
