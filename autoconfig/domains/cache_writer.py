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
import logging
import os
import threading
from collections.abc import Mapping

from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.load import LoadedFile
from autoconfig.domains.snapshot import Snapshot, is_cached

log = logging.getLogger("autoconfig")

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
        self._writer: threading.Thread | None = None

    def write_once(self, snapshot: Snapshot) -> bool:
        """Write ``snapshot`` from a niced child process, if no write was due or done yet;
        whether a writer was started.

        A thread forks the child and waits for it: the child does not linger as a zombie
        in a process that is not gunicorn's master (which reaps every child itself), and
        the main thread's children (/proc/PID/task/PID/children) are gunicorn's workers
        alone. Returns once the child exists: a fork hook registered later never runs in
        it.
        """
        if not self._due:
            return False
        self._due = False
        forked = threading.Event()
        self._writer = threading.Thread(
            target=self._write_in_child, args=(cache_entries(snapshot), forked),
            name="autoconfig-cache-writer", daemon=True,
        )
        self._writer.start()
        forked.wait()
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the writer started by ``write_once`` (if any) has ended."""
        if self._writer is not None:
            self._writer.join(timeout)

    def _write_in_child(self, files: Mapping[str, LoadedFile], forked: threading.Event) -> None:
        try:
            pid = self.cache.write_in_child(files, nice=WRITER_NICE)
        except OSError as error:  # no process left to fork: the next start reads files
            log.warning("cannot start writing the compiled cache %s (%s)",
                        self.cache.path, error.strerror or error)
            return
        finally:
            forked.set()
        with contextlib.suppress(ChildProcessError):  # gunicorn's master reaped it first
            os.waitpid(pid, 0)
