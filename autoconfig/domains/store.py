"""The domain files a process serves: the start-up load, and the parts that keep it current.

Each part has one job and its own module: ``snapshot`` builds a configuration, the
``Reloader`` holds the current one and replaces it, the ``DirectoryWatcher`` says when a
look is worth it, the ``Follower`` runs the looks in the processes that should, and the
``CacheWriter`` writes the compiled cache. ``ConfigStore`` composes them, so that the app
needs one object: it reads ``snapshot`` and ``generation`` (plain reads, nothing starts),
and says once how the files are followed (``follow`` or ``follow_as_master``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.cache_writer import CacheWriter, snapshot_differs
from autoconfig.domains.follow import Follower
from autoconfig.domains.reloader import LoadObserver, Reloader
from autoconfig.domains.snapshot import Snapshot, start_snapshot
from autoconfig.domains.watch import DirectoryWatcher

__all__ = ["ConfigStore"]


class ConfigStore:
    """Loads the domain files once; then serves the current snapshot.

    Building one starts no thread: the files are followed only once ``follow`` or
    ``follow_as_master`` says how. ``reload_interval`` 0 means they are never followed
    (``reload_if_changed`` still works when called).
    ``observer`` hears of each load in the process that made it (the metrics).
    """

    def __init__(
        self,
        directory: Path,
        reload_interval: float,
        cache_dir: Path | None = None,
        observer: LoadObserver | None = None,
    ) -> None:
        started = time.perf_counter()
        # Watching starts before loading, so that an edit made meanwhile is seen.
        watcher = DirectoryWatcher(directory, reload_interval) if (
            reload_interval and directory.is_dir()
        ) else None
        cache = CompiledCache(cache_dir, directory) if cache_dir else None
        cached = cache.read() if cache else {}
        try:
            snapshot = start_snapshot(directory, cached, cache.path if cache else None)
        except BaseException:  # nothing to serve: nothing to watch either
            if watcher is not None:
                watcher.close()
            raise
        self._reloader = Reloader(directory, snapshot, observer, time.perf_counter() - started)
        self._cache_writer = CacheWriter(cache, snapshot_differs(snapshot, cached)) if (
            cache
        ) else None
        self._follower = Follower(watcher, self._reloader) if watcher else None

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot to answer with; never waits for a reload."""
        return self._reloader.snapshot

    @property
    def generation(self) -> int:
        """Loads accepted in this process so far: 1 is the start-up load."""
        return self._reloader.generation

    def follow(self) -> None:
        """Follow the files in this process and in every process forked from it later
        (the app under any WSGI server); write the compiled cache if this start compiled
        files it did not hold. Nothing at all when ``reload_interval`` is 0."""
        if self._follower is None:
            return
        self._write_cache()  # before any fork can follow: a forked child never writes
        self._follower.follow_everywhere()

    def follow_as_master(
        self, on_reloaded: Callable[[], None], on_reload_started: Callable[[], None] | None = None
    ) -> None:
        """Follow the files from this process only, for processes forked from it later
        (gunicorn's master and its workers); write the compiled cache if it is due.

        ``on_reload_started`` runs when a reload begins to read changed files;
        ``on_reloaded`` after each reload that changed the snapshot, and after a refused
        one that ``on_reload_started`` was told of. Processes forked from this one keep
        the snapshot they were forked with and never follow the files themselves.
        """
        self._write_cache()
        if self._follower is not None:
            self._follower.follow_as_master(on_reloaded, on_reload_started)

    def reload_if_changed(
        self, names: frozenset[str] | None = None, started: Callable[[], None] | None = None
    ) -> bool:
        """Rebuild now if the files changed (``Reloader.reload_if_changed``)."""
        return self._reloader.reload_if_changed(names, started)

    def stop(self) -> None:
        """Stop following the files in this process (and in processes forked later)."""
        if self._follower is not None:
            self._follower.stop()

    def _write_cache(self) -> None:
        if self._cache_writer is not None:
            self._cache_writer.write_once(self._reloader.snapshot)
