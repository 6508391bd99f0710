"""The configuration a running server holds, and how it is reloaded safely.

A ``Snapshot`` (the registry of loaded records and the stamps of the files it came from)
is immutable; reload builds a new one and swaps a single reference, so requests never see
half a configuration. A reload that fails keeps the last good one.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.gc_pause import paused_gc
from autoconfig.domains.load import (
    FileStamp,
    LoadedFile,
    display_prefix,
    file_stamp,
    load_file,
    scan_domain_files,
)
from autoconfig.domains.registry import (
    NoValidDomainsError,
    Registry,
    load_directory,
    require_domains,
    with_files_replaced,
)
from autoconfig.domains.watch import DirectoryWatcher

log = logging.getLogger("autoconfig")

# File name -> stamp, in name order (the load order). A reload copies and compares these
# in C (dict copy and equality) instead of walking 100 000 pairs in Python.
Signature = Mapping[str, FileStamp]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One loaded configuration: what every request in flight reads."""

    registry: Registry
    signature: Signature
    loaded_at: float


def directory_signature(directory: Path) -> Signature:
    """Names, sizes and modification times of the domain files: changes mean reload."""
    try:
        return scan_domain_files(directory)
    except OSError:
        return {}


def build_snapshot(
    directory: Path,
    previous: Snapshot | None = None,
    signature: Signature | None = None,
    cached: Mapping[str, LoadedFile] | None = None,
    hint: frozenset[str] | None = None,
) -> Snapshot:
    """Load ``directory`` into a new snapshot.

    ``signature``: the scan a reload already made, so the files are listed only once.
    ``cached``: what an earlier start compiled (``cache``); files whose stamp still
    matches are taken from it instead of being read again.
    ``hint``: the only names that may differ from ``previous`` (what inotify reported).
    """
    with paused_gc():
        return _build_snapshot(directory, previous, signature, cached, hint)


def _build_snapshot(
    directory: Path,
    previous: Snapshot | None,
    signature: Signature | None,
    cached: Mapping[str, LoadedFile] | None,
    hint: frozenset[str] | None,
) -> Snapshot:
    if signature is None:
        signature = directory_signature(directory)
    if previous is not None and not cached:
        edited = _edited_in_place(directory, previous, signature, hint)
        if edited is not None:
            return edited
    reusable = {name: loaded for name, loaded in (cached or {}).items() if _logo_unchanged(loaded)}
    registry = load_directory(
        directory, previous.registry if previous else None, signature, reusable
    )
    return Snapshot(registry, signature, time.time())


def _logo_unchanged(loaded: LoadedFile) -> bool:
    """Whether the logo file a cached record holds the bytes of is still as it was then
    (the domain file's own stamp says nothing about it)."""
    if loaded.logo_stamp is None:
        return True
    path, stamp = loaded.logo_stamp
    return file_stamp(Path(path)) == stamp


def _edited_in_place(
    directory: Path, previous: Snapshot, after: Signature, hint: frozenset[str] | None
) -> Snapshot | None:
    """The new snapshot when a few files were edited and none came or went, built from
    ``previous`` without going through every file; None when that does not apply.

    ``hint``: the names that may have changed; without it every stamp is compared.
    """
    before = previous.signature
    if len(before) != len(after) or (hint is None and before.keys() != after.keys()):
        return None
    candidates = after.keys() if hint is None else hint
    changed = [name for name in candidates if before.get(name) != after.get(name)]
    if not changed or len(changed) > EDITS_IN_PLACE:
        return None
    if not all(name in before and name in after for name in changed):
        return None  # one came, one went
    shown = display_prefix(directory)
    results = [load_file(directory / name, shown + name, after[name]) for name in changed]
    registry = with_files_replaced(previous.registry, results)
    if registry is None:
        return None
    return Snapshot(registry, after, time.time())


EDITS_IN_PLACE = 100  # more edited files at once: build the registry afresh


def log_registry(registry: Registry) -> None:
    """Start-up and reload report: what was loaded, what was wrong."""
    for error in registry.errors:
        log.error("%s", error)
    for path in registry.kept_previous:
        log.warning("%s: keeping the last good version of this file", path)
    log.info(
        "serving %d domains from %d files (%d errors)",
        len(registry.by_domain), len(registry.files), len(registry.errors),
    )


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
        snapshot = first_snapshot(directory, cached)
        require_domains(snapshot.registry, directory)
        if cached and self._cache is not None:
            total = len(snapshot.signature)
            reused = sum(_is_cached(f, cached) for f in snapshot.registry.files)
            log.info("%d of %d domain files read, %d taken from the compiled cache %s",
                     total - reused, total, reused, self._cache.path)
        log_registry(snapshot.registry)
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
                signature = _restamped(self._snapshot.signature, self.directory, names)
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


def _is_cached(loaded: LoadedFile, cached: Mapping[str, LoadedFile]) -> bool:
    """Whether this load took ``loaded`` from the cache (rather than reading its file)."""
    return cached.get(loaded.path) is loaded


def first_snapshot(directory: Path, cached: Mapping[str, LoadedFile]) -> Snapshot:
    """The snapshot of a start (or of `check`): from the cache where it is still right,
    the other files read on every core (``parallel``)."""
    return build_snapshot(directory, cached=cached)


def _restamped(signature: Signature, directory: Path, names: frozenset[str]) -> Signature:
    """``signature`` with the stamps of ``names`` taken again (added, changed or gone)."""
    stamps = dict(signature)  # a copy in C: this runs at every reported change
    known = len(stamps)
    for name in names:
        try:
            status = (directory / name).stat()
        except OSError:
            stamps.pop(name, None)
            continue
        if stat.S_ISREG(status.st_mode):
            stamps[name] = (status.st_mtime_ns, status.st_size)
        else:
            stamps.pop(name, None)
    if len(stamps) != known or not names <= stamps.keys():
        return dict(sorted(stamps.items()))  # names came or went: keep name order
    return stamps


def cache_entries(snapshot: Snapshot) -> dict[str, LoadedFile]:
    """What the compiled cache keeps of ``snapshot``: every good file, by displayed path."""
    return {f.path: f for f in snapshot.registry.files}


def snapshot_differs(snapshot: Snapshot, cached: Mapping[str, LoadedFile]) -> bool:
    """Whether the cache misses anything this load compiled (or holds files now gone)."""
    files = snapshot.registry.files
    return len(files) != len(cached) or not all(_is_cached(f, cached) for f in files)
