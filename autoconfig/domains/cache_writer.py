"""When the compiled cache (``cache.py``) is written, and by which process.

Once per start, not after each reload: at 100 000 files writing takes seconds of CPU, and
a cache that misses a few edits only means those few files are read again at the next
start (which then rewrites it). Always from a forked child at the lowest CPU priority:
pickling touches every record, and in gunicorn's master that would turn every page it
shares with the workers into a private copy (measured at 100 000 files: +230 MiB for the
whole service); in a serving process it would hold the interpreter against requests.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping

from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.load import LoadedFile
from autoconfig.domains.snapshot import Snapshot, is_cached

WRITER_NICE = 19  # the lowest priority there is: requests and reloads come first


def cache_entries(snapshot: Snapshot) -> dict[str, LoadedFile]:
    """What the compiled cache keeps of ``snapshot``: every good file, by displayed path."""
    return {f.path: f for f in snapshot.registry.files}


def snapshot_differs(snapshot: Snapshot, cached: Mapping[str, LoadedFile]) -> bool:
    """Whether the cache misses anything this load compiled (or holds files now gone)."""
    files = snapshot.registry.files
    return len(files) != len(cached) or not all(is_cached(f, cached) for f in files)


class CacheWriter:
    """Writes ``cache`` at most once, and only if the start-up load compiled files it did
    not hold (``stale``)."""

    def __init__(self, cache: CompiledCache, stale: bool) -> None:
        self.cache = cache
        self._due = stale
        self._reaper: threading.Thread | None = None

    def write_once(self, snapshot: Snapshot) -> bool:
        """Write ``snapshot`` from a niced child process, if no write was due or done yet;
        whether a writer was started. A thread waits for the child, so that it does not
        linger as a zombie in a process that is not gunicorn's master (which reaps every
        child itself)."""
        if not self._due:
            return False
        self._due = False
        pid = self.cache.write_in_child(cache_entries(snapshot), nice=WRITER_NICE)
        self._reaper = threading.Thread(
            target=_reap, args=(pid,), name="autoconfig-cache-reaper", daemon=True
        )
        self._reaper.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the writer started by ``write_once`` (if any) has ended."""
        if self._reaper is not None:
            self._reaper.join(timeout)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # gunicorn's master reaped it first
        os.waitpid(pid, 0)
