"""gunicorn run in-process around an app that is already built.

``autoconfig serve`` used to exec ``python -m gunicorn … autoconfig:create_app()``. Both
``python -m`` and gunicorn put the working directory first on ``sys.path``, so a server
started beside another ``autoconfig/`` folder (a checkout) imported that code instead of
the installed one, and the domain files were loaded twice (once to refuse a broken
directory cleanly, once in gunicorn's master). Running gunicorn's arbiter from this
process serves the code that was installed and the app loaded once, before the fork.
"""

from __future__ import annotations

import contextlib
import gc
import os
import runpy
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.sock import create_sockets

from autoconfig.server.app import Application

SETTINGS_FILE = Path(__file__).resolve().parent / "gunicorn.conf.py"


class GunicornSettingsError(ValueError):
    """The gunicorn settings file cannot be used (the AUTOCONFIG_* variables are checked in
    autoconfig/settings.py before it is read)."""


def read_settings(path: Path = SETTINGS_FILE) -> dict[str, Any]:
    """The public names ``gunicorn.conf.py`` defines, evaluated as gunicorn would."""
    try:
        namespace = runpy.run_path(str(path))
    except Exception as error:  # an edited file that no longer runs
        raise GunicornSettingsError(f"{path.name}: {error}") from None
    return {key: value for key, value in namespace.items() if not key.startswith("_")}


# While the master reloads, the workers it is about to replace run this much below it.
RELOAD_NICE_INCREMENT = 10
MAX_NICE = 19  # the lowest priority there is


def lower_priority(pids: Iterable[int], increment: int = RELOAD_NICE_INCREMENT) -> None:
    """Run every thread of ``pids`` ``increment`` below this thread's CPU priority.

    Under full load the master got a fifth of a core: a 0.2 s reload of a file listing
    100 000 domains took 1.1 s, and every request waits for it to see the edit
    (docs/benchmarks.md). The old workers yield instead; they are replaced right after, by
    workers forked at the master's priority, so nothing needs the privilege of raising
    a priority back. Linux keeps a nice value per thread (/proc/PID/task lists them);
    a process already gone is skipped.
    """
    nice = min(os.getpriority(os.PRIO_PROCESS, 0) + increment, MAX_NICE)
    for pid in pids:
        try:
            threads = [int(task) for task in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            threads = [pid]
        for thread in threads:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, thread, nice)


class PreloadedApplication(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn serving one application built by the caller (``preload_app`` by nature)."""

    def __init__(
        self, app: Application, overrides: Mapping[str, Any], *, share_port: bool = False
    ) -> None:
        self._app = app
        self._overrides = dict(overrides)
        self._share_port = share_port
        self._hup_from_watcher = threading.Event()
        super().__init__()

    def load_config(self) -> None:
        """The shipped settings file, then the command line's options (HUP re-reads both)."""
        settings = {**read_settings(), **self._overrides, **self._hooks()}
        for key, value in settings.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def _hooks(self) -> dict[str, Callable[..., None]]:
        """Server hooks that make the master the one place that watches the domain files.

        The master reloads, then HUPs itself: gunicorn forks new workers, which start
        with the new snapshot in memory they share with the master, and stops the old
        ones gracefully (they finish the requests they hold). ``gc.freeze()`` before each
        fork keeps the workers' garbage collector from writing to every shared object.
        While the master reads edited files, the workers it will replace run at a lower
        CPU priority (``lower_priority``); it replaces them after a refused reload too.
        A HUP from outside (``systemctl reload``) checks the files first, too.
        ``create_app`` had every process follow the files; ``when_ready`` runs before the
        first worker is forked, so none of them ever does.
        """
        store = self._app.store
        ours = self._hup_from_watcher

        def when_ready(server: Any) -> None:
            def replace_workers() -> None:
                ours.set()
                os.kill(server.pid, signal.SIGHUP)

            def yield_to_the_reload() -> None:
                lower_priority(list(server.WORKERS))

            store.follow_as_master(
                on_reloaded=replace_workers, on_reload_started=yield_to_the_reload
            )

        def on_reload(server: Any) -> None:
            if ours.is_set():  # the watcher has just reloaded: no second look at 100 000 files
                ours.clear()
            else:
                store.reload_if_changed()

        def pre_fork(server: Any, worker: Any) -> None:
            gc.freeze()

        hooks: dict[str, Callable[..., None]] = {
            "when_ready": when_ready, "on_reload": on_reload, "pre_fork": pre_fork,
        }
        if self._share_port:
            hooks["on_starting"] = _bind_shared_port
        return hooks

    def load(self) -> Application:
        """The app built before gunicorn started: no second load of the domain files."""
        return self._app


def _bind_shared_port(server: Any) -> None:
    """The master's listening socket, with ``SO_REUSEPORT``, before gunicorn would bind one.

    Its workers share that one socket, as without the option, and several replicas (pods
    on a node's host network) listen on one address, the kernel spreading connections over
    them. gunicorn's own ``reuse_port`` gives each worker a socket of its own instead:
    connections waiting on it are reset when that worker is replaced, at every reload.
    The arbiter binds only when it has no listeners yet, and keeps them across reloads.
    """
    server.cfg.set("reuse_port", True)  # only while the sockets are made
    server.LISTENERS = create_sockets(server.cfg, server.log)
    server.cfg.set("reuse_port", False)
