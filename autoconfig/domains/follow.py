"""Which processes follow the domain files, and the thread in each one that does.

Two ways of running, chosen explicitly by the caller:

- ``follow_everywhere`` (the app run by any WSGI server: ``create_app``): a thread of this
  process follows the files, and so does one in every process forked from it later (a
  server that forks its workers after loading the app, such as ``gunicorn --preload``).
  The forked child opens its own inotify instance and catches up with the files before
  its fork returns, so it never answers from a configuration older than its parent's.
- ``follow_as_master`` (``autoconfig serve``: gunicorn's master): only this process
  follows; the callbacks replace the workers, which fork with the new snapshot already in
  memory, shared with the master. Workers forked from it never follow.

A process follows with at most one thread; the second call hands that thread the
callbacks instead of starting another.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable

from autoconfig.domains.reloader import Reloader
from autoconfig.domains.watch import DirectoryWatcher

log = logging.getLogger("autoconfig")

Callback = Callable[[], None]


class Follower:
    """Runs ``reloader.reload_if_changed`` whenever ``watcher`` says a look is worth it."""

    def __init__(self, watcher: DirectoryWatcher, reloader: Reloader) -> None:
        """``watcher``: opened in the main thread before the start-up load, so that an edit
        made while 100 000 files load is seen (and because opening inotify the first time
        may run a subprocess, which deadlocked in a thread of gunicorn's master)."""
        self._watcher = watcher
        self._reloader = reloader
        self._everywhere = False  # processes forked from this one follow, too
        self._fork_hook_registered = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # Held for a whole look at the files, callbacks included: a caller that sets the
        # callbacks waits for a reload in progress, so none ends without telling it.
        self._look = threading.Lock()
        self._on_reloaded: Callback | None = None
        self._on_reload_started: Callback | None = None

    def follow_everywhere(self) -> None:
        """Follow from a thread of this process and of every process forked from it."""
        self._everywhere = True
        if not self._fork_hook_registered:
            os.register_at_fork(after_in_child=_weak_call(self._after_fork_in_child))
            self._fork_hook_registered = True
        self._start(catch_up_first=False)

    def follow_as_master(
        self, on_reloaded: Callback, on_reload_started: Callback | None = None
    ) -> None:
        """Follow from this process only, for processes forked from it later, which never
        follow themselves (they are replaced through ``on_reloaded``).

        ``on_reload_started`` runs when a reload begins to read changed files;
        ``on_reloaded`` after each reload that changed the snapshot, and after a refused
        one that ``on_reload_started`` was told of.
        """
        self._everywhere = False
        with self._look:
            self._on_reloaded, self._on_reload_started = on_reloaded, on_reload_started
        self._start(catch_up_first=False)

    def stop(self) -> None:
        """End the following thread of this process; forked processes will not follow."""
        self._everywhere = False
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._watcher.wake()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._watcher.close()

    def _start(self, catch_up_first: bool) -> None:
        if self._thread is not None or self._stopping.is_set():
            return
        looked = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._watcher, self._stopping, looked),
            name="autoconfig-reload", daemon=True,
        )
        self._thread.start()
        if catch_up_first:
            looked.wait()

    def _run(
        self, watcher: DirectoryWatcher, stopping: threading.Event, looked: threading.Event
    ) -> None:
        names: frozenset[str] | None = None  # first: all files (edited while loading)
        while not stopping.is_set():
            try:
                self._look_once(names)
            except Exception:  # a bug here must not stop future reloads
                log.exception("checking the domain files for changes failed")
            looked.set()
            names = watcher.wait()

    def _look_once(self, names: frozenset[str] | None) -> None:
        """One look at the files, with the callbacks around a reload."""
        with self._look:
            on_reloaded, on_reload_started = self._on_reloaded, self._on_reload_started
            told = False

            def started() -> None:
                nonlocal told
                if on_reload_started is not None:
                    told = True
                    on_reload_started()

            changed = self._reloader.reload_if_changed(names, started)
            if on_reloaded is not None and (changed or told):
                on_reloaded()

    def _after_fork_in_child(self) -> None:
        """In a process just forked from one that follows everywhere: follow here too.

        Only this thread survived the fork: the locks a vanished thread may have held
        are replaced, and the inherited inotify instance (the parent's) is closed.
        Opening a new one runs no subprocess here: ctypes found libc in the parent.
        """
        if not self._everywhere or self._stopping.is_set():
            return
        try:
            self._thread = None
            self._look = threading.Lock()
            self._stopping = threading.Event()
            self._reloader.forked()
            inherited, self._watcher = (
                self._watcher, DirectoryWatcher(self._watcher.directory, self._watcher.interval)
            )
            inherited.close()
            self._start(catch_up_first=True)
        except Exception:  # the fork itself must go on; this process then serves unfollowed
            log.exception("cannot follow the domain files in process %d", os.getpid())


def _weak_call(method: Callback) -> Callback:
    """``method``, as long as its object lives: a fork hook cannot be unregistered, and
    must not keep a stopped follower (and its snapshot) alive."""
    reference = weakref.WeakMethod(method)

    def call() -> None:
        bound = reference()
        if bound is not None:
            bound()

    return call
