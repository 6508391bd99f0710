"""Knowing cheaply when the domains directory may have changed.

Stat-ing 100 000 files every few seconds costs a core's worth of time at scale, so the
directory is watched with inotify (Linux): a check happens only after the kernel reports
a change in it (a file written, added, removed or renamed, and the atomic rename of
``..data`` by which Kubernetes swaps a mounted ConfigMap). Where inotify is not available
(another OS, no watches left) every tick is a check, as before. Files that are symlinks to
elsewhere, and a directory reached through a symlink that is repointed, change without an
event here, so a full check also runs every ``SAFETY_TICKS`` ticks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import time
from pathlib import Path
from typing import Any

from autoconfig.domains.load import DOMAIN_FILE_SUFFIXES

log = logging.getLogger("autoconfig")

SAFETY_TICKS = 12  # with inotify, also check every 12th tick (1 min at the default 5 s)
SETTLE = 0.05  # after an event, wait this long so that an editor's rename-and-write lands


class DirectoryWatcher:
    """``wait()`` returns when a check of the directory is worth making.

    One instance per process: an inotify instance inherited through ``fork`` is the
    parent's, and the events read in one process are gone for the other.
    """

    def __init__(self, directory: Path, interval: float) -> None:
        self.directory = directory
        self.interval = interval
        self._ticks = 0
        self._inotify = _open_inotify(directory)
        # ``wake`` writes here: a thread asleep in ``wait`` returns at once.
        self._wake_in, self._wake_out = os.pipe()

    def wait(self) -> frozenset[str] | None:
        """Sleep until a change is reported, or until the tick that must check anyway.

        Returns the names of the domain files the kernel reported, or None when the whole
        directory must be checked (polling, the safety tick, a ConfigMap swap of
        ``..data``, a lost event, ``wake``).
        """
        watched = [self._wake_in] if self._inotify is None else [self._inotify, self._wake_in]
        deadline = time.monotonic() + self.interval
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select(watched, [], [], max(left, 0))
            if self._wake_in in ready:
                os.read(self._wake_in, 512)
                return None
            if ready:
                time.sleep(SETTLE)
                self._ticks = 0
                return self._changed_names()
            if left <= 0:
                self._ticks += 1
                if self._inotify is None or self._ticks >= SAFETY_TICKS:
                    self._ticks = 0
                    return None
                deadline = time.monotonic() + self.interval

    def wake(self) -> None:
        """Make ``wait`` return now (in another thread), to stop a thread that waits."""
        os.write(self._wake_out, b"!")

    def close(self) -> None:
        """Release the inotify instance and the wake-up pipe."""
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        for fd in (self._wake_in, self._wake_out):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _changed_names(self) -> frozenset[str] | None:
        """Drain the events so far: one check covers them all."""
        names = set()
        for event in self._inotify.read(timeout=0):
            if event.name.endswith(DOMAIN_FILE_SUFFIXES):
                names.add(event.name)
            elif not event.name or event.name.startswith(".."):
                return None  # the directory itself, a lost event, ConfigMap's ..data swap
            # else: an editor's swap or backup file, not a domain file
        return frozenset(names)


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
