"""Reading many domain files on every core: a start at 100 000 files takes half as long.

A process that has no other thread (a start, ``autoconfig check``) forks one child per
further core; each child reads its share of the files and sends back the records,
pickled (reading back costs about a twentieth of what reading the files costs). A child
that fails only costs time: its share is read here. Reloads run in a thread of a
serving process, where forking is not safe, and read their few files in-process.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import threading
from collections.abc import Sequence
from pathlib import Path

from autoconfig.domains.cache import Pickler
from autoconfig.domains.gc_pause import paused_gc
from autoconfig.domains.load import FileResult, FileStamp, SharedParts, load_file

log = logging.getLogger("autoconfig")

# Below this many files a fork costs more than it saves (measured: ~100 us a file).
FILES_PER_PROCESS_AT_LEAST = 2000
MAX_PROCESSES = 4


def load_files(
    directory: Path, shown: str, wanted: Sequence[tuple[str, FileStamp]]
) -> list[FileResult]:
    """Read ``wanted`` (file name, stamp) in ``directory``; results in the same order.

    ``shown``: what goes before a file's name in messages (``display_prefix``).
    """
    processes = min(_usable_cores(), MAX_PROCESSES, len(wanted) // FILES_PER_PROCESS_AT_LEAST)
    if processes < 2 or threading.active_count() > 1 or not hasattr(os, "fork"):
        return _load_share(directory, shown, wanted)
    size = -(-len(wanted) // processes)  # ceiling division: the last share is the smallest
    shares = [wanted[start:start + size] for start in range(0, len(wanted), size)]
    log.info("reading %d domain files in %d processes", len(wanted), len(shares))
    children = [_fork_loader(directory, shown, share) for share in shares[1:]]
    results = _load_share(directory, shown, shares[0])
    for share, (pid, reader) in zip(shares[1:], children, strict=True):
        results.extend(_collect(directory, shown, share, pid, reader))
    return results


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _load_share(
    directory: Path, shown: str, share: Sequence[tuple[str, FileStamp]]
) -> list[FileResult]:
    shared = SharedParts()
    return [load_file(directory / name, shown + name, stamp, shared) for name, stamp in share]


def _fork_loader(
    directory: Path, shown: str, share: Sequence[tuple[str, FileStamp]]
) -> tuple[int, int]:
    """Start a child reading ``share``; its pid and the pipe its results come through."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writer)
        return pid, reader
    status = 1  # pragma: no cover - runs in the child; its results are what is tested
    try:  # pragma: no cover
        os.close(reader)
        with paused_gc():
            buffer = io.BytesIO()
            Pickler(buffer, protocol=5).dump(_load_share(directory, shown, share))
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(buffer.getbuffer())
        status = 0
    finally:  # pragma: no cover
        os._exit(status)


def _collect(
    directory: Path,
    shown: str,
    share: Sequence[tuple[str, FileStamp]],
    pid: int,
    reader: int,
) -> list[FileResult]:
    """A child's results; its share read here if it failed."""
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status == 0:
        try:
            with paused_gc():
                results: list[FileResult] = pickle.loads(data)  # noqa: S301 - our own child
            if len(results) == len(share):
                return results
        except Exception:
            log.warning("a loading process sent damaged results; reading its files here")
    else:
        log.warning("a loading process failed (status %d); reading its files here", status)
    return _load_share(directory, shown, share)
