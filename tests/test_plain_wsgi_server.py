"""The app run by a WSGI server of the user's choosing: every process follows the files.

``gunicorn 'autoconfig:create_app()'`` from the installed wheel, as a user would run it
without ``autoconfig serve``: with ``--preload`` the workers are forked after
``create_app()`` (each must open its own watcher), without it each builds its own app.
Either way no master replaces them: an edit reaches every worker by itself, and a worker
started later serves the files as they are then.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from tests.support.http import free_port, request
from tests.support.installed import installed_venv
from tests.support.system import stop_process
from tests.support.system import wait_for as poll

wait_for = partial(poll, timeout=15.0)  # workers replaced under a plain gunicorn

DOMAIN = """name: Example
domains: [example.com]
incoming: [{{protocol: imap, host: {host}, security: tls}}]
outgoing: [{{host: smtp.example.com, security: tls}}]
"""
QUERY = "/mail/config-v1.1.xml?emailaddress=alice@example.com"


@contextmanager
def plain_gunicorn(
    domains: Path, log_path: Path, cache: Path, *options: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """gunicorn from the wheel's venv, two workers, run from an empty directory (so that
    nothing there can stand in for the installed package)."""
    port = free_port()
    env = {
        **os.environ, "AUTOCONFIG_DOMAINS": str(domains), "AUTOCONFIG_RELOAD_INTERVAL": "0.5",
        "AUTOCONFIG_CACHE_DIR": str(cache),
    }
    workdir = log_path.parent / "cwd"
    workdir.mkdir()
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(installed_venv() / "bin" / "gunicorn"), *options, "--workers", "2",
             "--bind", f"127.0.0.1:{port}", "autoconfig:create_app()"],
            stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=workdir,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        def answers() -> bool:
            try:
                return request(base, "/healthz", timeout=2).status == 200
            except OSError:
                return False

        assert wait_for(answers, timeout=30), log_path.read_text()
        yield base, process
    finally:
        stop_process(process, timeout=15)


def workers_of(process: subprocess.Popen[bytes]) -> set[int]:
    pid = process.pid
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def every_answer_names(base: str, host: str) -> bool:
    return all(f"<hostname>{host}</hostname>".encode() in request(base, QUERY).body
               for _ in range(20))


@pytest.mark.parametrize("options", [("--preload",), ()], ids=["preload", "app-per-worker"])
def test_every_worker_follows_an_edit_by_itself(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    domains = tmp_path / "domains"
    domains.mkdir()
    example = domains / "example.com.yaml"
    example.write_text(DOMAIN.format(host="imap.example.com"))
    log_path = tmp_path / "gunicorn.log"
    with plain_gunicorn(domains, log_path, tmp_path / "cache", *options) as (base, process):
        assert wait_for(lambda: len(workers_of(process)) == 2)
        workers = workers_of(process)
        assert every_answer_names(base, "imap.example.com")

        example.write_text(DOMAIN.format(host="mail.example.com"))
        assert wait_for(lambda: every_answer_names(base, "mail.example.com")), log_path.read_text()
        assert workers_of(process) == workers  # no one replaced them: they followed

        # A worker started now (forked from the master, or building its own app) serves
        # the files as they are, and then follows them too.
        example.write_text(DOMAIN.format(host="mx.example.com"))
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: len(workers_of(process) - workers) == 1)
        assert wait_for(lambda: every_answer_names(base, "mx.example.com")), log_path.read_text()
        example.write_text(DOMAIN.format(host="last.example.com"))
        assert wait_for(lambda: every_answer_names(base, "last.example.com")), (
            log_path.read_text()
        )
        assert "Traceback" not in log_path.read_text()
