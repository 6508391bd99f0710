"""Debian programs the real-component tests need (nginx, nsd, chromium, ...).

Missing programs are installed with apt-get when we are root (CI always is);
otherwise the test is skipped with the install command, except under CI=true,
where a missing program fails the test: CI must never skip silently.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

_apt_updated = False


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# wait for a dpkg lock another apt-get holds (a parallel job, unattended-upgrades)
# instead of failing at once
_LOCK_WAIT = ("-o", "DPkg::Lock::Timeout=600")


def _apt_install(packages: list[str]) -> None:
    global _apt_updated  # noqa: PLW0603 - one apt-get update per test session
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        subprocess.run(["apt-get", *_LOCK_WAIT, "update", "-qq"], check=True, env=env,
                       timeout=600)
        _apt_updated = True
    subprocess.run(
        ["apt-get", *_LOCK_WAIT, "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=True, env=env, timeout=1200, stdout=subprocess.DEVNULL,
    )


def require_program(program: str, package: str, *extra_packages: str) -> Path:
    """The path of ``program``, installing Debian ``package`` first if we can."""
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if found:
        return Path(found)
    if os.geteuid() == 0 and shutil.which("apt-get"):
        _apt_install([package, *extra_packages])
        found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
        if found:
            return Path(found)
    message = f"{program} is missing: install it with `apt-get install {package}`"
    if _in_ci():
        pytest.fail(message + " (CI must run this test, not skip it)")
    pytest.skip(message)
    raise AssertionError("unreachable")  # pragma: no cover - pytest.skip raises


def require_file(path: Path, package: str) -> Path:
    """``path``, installing the Debian ``package`` that ships it first if we can."""
    if path.exists():
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        _apt_install([package])
        if path.exists():
            return path
    message = f"{path} is missing: install it with `apt-get install {package}`"
    if _in_ci():
        pytest.fail(message + " (CI must run this test, not skip it)")
    pytest.skip(message)
    raise AssertionError("unreachable")  # pragma: no cover - pytest.skip raises


def stop_process(
    process: subprocess.Popen[bytes], stop_signal: int = signal.SIGTERM, timeout: float = 10.0
) -> None:
    """Ask a server to stop (gracefully), and kill it if it has not within ``timeout``."""
    process.send_signal(stop_signal)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition: Callable[[], object], timeout: float = 10.0, every: float = 0.1) -> bool:
    """Poll ``condition()`` every ``every`` seconds until it is true; False after
    ``timeout`` seconds (the caller asserts, so a failure says what was awaited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
