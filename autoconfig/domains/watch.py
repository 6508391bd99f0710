"""Knowing cheaply when the domains directory may have changed.

Stat-ing 100 000 files every few seconds costs a core's worth of time at scale, so the
directory is watched with inotify (Linux): a check happens only after the kernel reports
a change in it (a file written, added, removed or renamed, and the atomic rename of
``..data`` by which Kubernetes swaps a mounted ConfigMap). Where inotify is not available
(another OS, no watches left) every tick is a check, as before. Files that are symlinks to
elsewhere change without an event in this directory, so a full check also runs every
``SAFETY_TICKS`` ticks.
"""

from __future__ import annotations

import logging
import os
import select
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("autoconfig")

SAFETY_TICKS = 12  # with inotify, also check every 12th tick (1 min at the default 5 s)
SETTLE = 0.05  # after an event, wait this long so that an editor's rename-and-write lands


class DirectoryWatcher:
    """``wait()`` returns when a check of the directory is worth making."""

    def __init__(self, directory: Path, interval: float) -> None:
        self.directory = directory
        self.interval = interval
        self._ticks = 0
        self._inotify = _open_inotify(directory)

    @property
    def uses_inotify(self) -> bool:
        """Whether changes are reported by the kernel (else: polling every tick)."""
        return self._inotify is not None

    def wait(self) -> None:
        """Sleep until a change is reported, or until the tick that must check anyway."""
        if self._inotify is None:
            time.sleep(self.interval)
            return
        deadline = time.monotonic() + self.interval
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._inotify], [], [], max(left, 0))
            if ready:
                time.sleep(SETTLE)
                self._inotify.read(timeout=0)  # drain: one check covers every event so far
                self._ticks = 0
                return
            if left <= 0:
                self._ticks += 1
                if self._ticks >= SAFETY_TICKS:
                    self._ticks = 0
                    return
                deadline = time.monotonic() + self.interval


def _open_inotify(directory: Path) -> Any:
    """An inotify instance watching ``directory`` (a file select() accepts), or None."""
    try:
        from inotify_simple import INotify, flags  # type: ignore[import-untyped]  # noqa: PLC0415
    except (ImportError, OSError):  # pragma: no cover - not Linux
        return None
    mask = (
        flags.CREATE | flags.DELETE | flags.MODIFY | flags.CLOSE_WRITE | flags.MOVED_FROM
        | flags.MOVED_TO | flags.ATTRIB | flags.DELETE_SELF | flags.MOVE_SELF
    )
    try:
        inotify = INotify()
        inotify.add_watch(os.fspath(directory), mask)
    except OSError as error:
        log.warning("%s: cannot watch with inotify (%s); checking at every tick",
                    directory, error.strerror or error)
        return None
    return inotify
