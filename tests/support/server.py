"""Start the real server (``autoconfig serve``: gunicorn) on a loopback port.

The server is the installed wheel (tests/support/installed.py), started from a
directory that holds a decoy ``autoconfig/`` package, as a user would run it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.http import free_port, request
from tests.support.installed import decoy_directory, installed_command
from tests.support.system import stop_process


@dataclass
class RunningServer:
    """A gunicorn process serving a domains directory on ``base``."""

    base: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything the server wrote so far (access log and errors)."""
        return self.log_path.read_text(errors="replace")


@contextmanager
def run_server(
    domains: Path,
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    workers: int = 2,
    startup_timeout: float = 30.0,
) -> Iterator[RunningServer]:
    """Run ``autoconfig serve`` until the block ends; fail clearly if it never answers.

    The compiled cache goes to a directory of this run (removed after it), not to the
    user's ~/.cache, unless ``env`` names one.
    """
    with tempfile.TemporaryDirectory(
        prefix="autoconfig-cache-", ignore_cleanup_errors=True
    ) as cache, _run_server(domains, log_path, {"AUTOCONFIG_CACHE_DIR": cache, **(env or {})},
                     workers, startup_timeout) as server:
        yield server


@contextmanager
def _run_server(
    domains: Path, log_path: Path, env: dict[str, str], workers: int, startup_timeout: float
) -> Iterator[RunningServer]:
    port = free_port()
    full_env = {**os.environ, "AUTOCONFIG_RELOAD_INTERVAL": "0.5", **env}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(installed_command()), "serve", "--bind", f"127.0.0.1:{port}",
             "--domains", str(domains), "--workers", str(workers)],
            stdout=log_file, stderr=subprocess.STDOUT, env=full_env, cwd=decoy_directory(),
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited with {process.returncode}:\n{server.log()}")
            try:
                if request(server.base, "/healthz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not answer /healthz:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        stop_process(process, timeout=15)
