"""The configuration a running server holds, and how it is reloaded safely.

A ``Snapshot`` (the registry of loaded records and the stamps of the files it came from)
is immutable; reload builds a new one and swaps a single reference, so requests never see
half a configuration. A reload that fails keeps the last good one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.load import LoadedFile
from autoconfig.domains.registry import NoValidDomainsError, Registry, require_domains
from autoconfig.domains.snapshot import (
    Signature,
    Snapshot,
    build_snapshot,
    directory_signature,
    is_cached,
    log_registry,
    restamped,
    start_snapshot,
)
from autoconfig.domains.watch import DirectoryWatcher

__all__ = ["ConfigStore", "Snapshot", "cache_entries", "snapshot_differs"]

log = logging.getLogger("autoconfig")


class LoadObserver(Protocol):
    """Told about every load (the metrics): accepted with its duration, or refused."""

    def loaded(self, registry: Registry, seconds: float, generation: int) -> None:
        """A load was accepted; ``generation`` counts them in this process, from 1."""

    def refused(self) -> None:
        """A reload was refused; the last good configuration keeps serving."""


class ConfigStore:
    """Holds the current snapshot and reloads it when the domain files change.

    Under ``autoconfig serve`` one thread in gunicorn's master watches (``watch``): it
    builds the new snapshot, then asks gunicorn to replace the workers, which fork with
    it already in memory (shared with the master, never copied per worker). Anywhere
    else (the app run by another WSGI server) each process watches for itself.
    ``observer`` hears of each load in the process that made it (the metrics).
    """

    def __init__(
        self,
        directory: Path,
        reload_interval: float,
        cache_dir: Path | None = None,
        observer: LoadObserver | None = None,
    ) -> None:
        self.directory = directory
        self.reload_interval = reload_interval
        self._observer = observer
        started = time.perf_counter()
        # Watching starts before loading, so an edit made while 100 000 files load is
        # seen; and here, in the main thread before gunicorn starts: opening inotify may
        # run a subprocess (ctypes looks for libc), which deadlocked in a thread of
        # gunicorn's master, whose SIGCHLD handler reaps every child.
        self._watcher = DirectoryWatcher(directory, reload_interval) if (
            reload_interval and directory.is_dir()
        ) else None
        self._cache = CompiledCache(cache_dir, directory) if cache_dir else None
        cached = self._cache.read() if self._cache else {}
        snapshot = start_snapshot(directory, cached, self._cache.path if self._cache else None)
        self._snapshot = snapshot
        self.generation = 1
        if observer is not None:
            observer.loaded(snapshot.registry, time.perf_counter() - started, self.generation)
        self._cache_is_stale = snapshot_differs(snapshot, cached)
        self._refused: Signature | None = None
        self._lock = threading.Lock()
        self._watcher_pid: int | None = None
        self._watched_elsewhere = False

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot to answer with; never waits for a reload."""
        if self.reload_interval and not self._watched_elsewhere and (
            self._watcher_pid != os.getpid()
        ):
            self._start_watcher()
        return self._snapshot

    def watch(
        self, on_reloaded: Callable[[], None], on_reload_started: Callable[[], None] | None = None
    ) -> None:
        """Watch from this process for every process forked from it later (the master).

        ``on_reload_started`` runs when a reload begins to read changed files;
        ``on_reloaded`` after each reload that changed the snapshot, and after a refused
        one that ``on_reload_started`` was told of. Processes forked before keep the
        snapshot they were forked with and never watch.
        """
        self._watched_elsewhere = True
        self._watcher_pid = os.getpid()
        threading.Thread(
            target=self._watch, args=(self._watcher, on_reloaded, on_reload_started),
            name="autoconfig-reload", daemon=True,
        ).start()

    def _start_watcher(self) -> None:
        """Watch the files from a thread of this process (started after a fork).

        A process forked long after start-up first catches up with the files as they
        are now; the reload reads only files changed since the last load.
        """
        self._watcher_pid = os.getpid()
        # Its own inotify instance: the one inherited through fork is the parent's.
        watcher = DirectoryWatcher(self.directory, self.reload_interval)
        self.reload_if_changed()
        threading.Thread(
            target=self._watch, args=(watcher,), name="autoconfig-reload", daemon=True
        ).start()

    def _watch(
        self,
        watcher: DirectoryWatcher | None,
        on_reloaded: Callable[[], None] | None = None,
        on_reload_started: Callable[[], None] | None = None,
    ) -> None:
        self.save_cache()
        names: frozenset[str] | None = None  # first: all files, for edits made while loading
        while watcher is not None:
            try:
                self._check(names, on_reloaded, on_reload_started)
            except Exception:  # a bug here must not stop future reloads
                log.exception("checking the domain files for changes failed")
            names = watcher.wait()

    def _check(
        self,
        names: frozenset[str] | None,
        on_reloaded: Callable[[], None] | None,
        on_reload_started: Callable[[], None] | None,
    ) -> None:
        """One look at the files, with ``watch``'s hooks around a reload."""
        told = False

        def started() -> None:
            nonlocal told
            if on_reload_started is not None:
                told = True
                on_reload_started()

        changed = self.reload_if_changed(names, started)
        if on_reloaded is not None and (changed or told):
            on_reloaded()

    def save_cache(self) -> None:
        """Write the compiled cache if this start compiled files it did not hold.

        Once per start, not after each reload: at 100 000 files writing takes seconds of
        the watching process's time, and a cache that misses a few edits only means
        those few files are read again at the next start (which then rewrites it).
        """
        if self._cache is None or not self._cache_is_stale:
            return
        self._cache_is_stale = False
        if not self._watched_elsewhere:
            self._cache.write(cache_entries(self._snapshot))
            return
        # In gunicorn's master, a child process writes: pickling touches every object,
        # and in the master that would turn every page it shares with the workers into
        # a private copy (measured at 100 000 files: +230 MiB for the whole service).
        # Niced: seconds of CPU at 100 000 files, after requests and reloads.
        self._cache.write_in_child(cache_entries(self._snapshot), nice=19)

    def reload_if_changed(
        self, names: frozenset[str] | None = None, started: Callable[[], None] | None = None
    ) -> bool:
        """Rebuild if the files changed; one thread does it while the others keep serving.

        ``names``: the only files that may have changed (reported by inotify), so that
        not every file is stat-ed again; None checks them all. ``started`` runs when
        changed files are about to be read.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if names is None:
                signature = directory_signature(self.directory)
            else:
                signature = restamped(self._snapshot.signature, self.directory, names)
            if signature in (self._snapshot.signature, self._refused):  # dicts: compared in C
                return False
            if started is not None:
                started()
            return self._reload(signature, names)
        finally:
            self._lock.release()

    def _reload(self, signature: Signature, hint: frozenset[str] | None = None) -> bool:
        started = time.perf_counter()
        try:
            snapshot = build_snapshot(self.directory, self._snapshot, signature, hint=hint)
            require_domains(snapshot.registry, self.directory)
        except NoValidDomainsError as error:
            log.error("reload refused, the last good configuration keeps serving: %s", error)
            self._refused = signature  # report once, not at every check
            if self._observer is not None:
                self._observer.refused()
            return False
        log_registry(snapshot.registry)
        self._snapshot = snapshot
        self.generation += 1
        if self._observer is not None:
            self._observer.loaded(
                snapshot.registry, time.perf_counter() - started, self.generation
            )
        return True


def cache_entries(snapshot: Snapshot) -> dict[str, LoadedFile]:
    """What the compiled cache keeps of ``snapshot``: every good file, by displayed path."""
    return {f.path: f for f in snapshot.registry.files}


def snapshot_differs(snapshot: Snapshot, cached: Mapping[str, LoadedFile]) -> bool:
    """Whether the cache misses anything this load compiled (or holds files now gone)."""
    files = snapshot.registry.files
    return len(files) != len(cached) or not all(is_cached(f, cached) for f in files)
