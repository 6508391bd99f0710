"""Shared fixtures: the real server on the bundled domains, and paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import DOMAINS
from tests.support.server import RunningServer, run_server


@pytest.fixture(scope="session")
def bundled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """gunicorn serving the repository's own domains/ on a loopback port."""
    log_path = tmp_path_factory.mktemp("bundled-server") / "server.log"
    with run_server(DOMAINS, log_path) as server:
        yield server


@pytest.fixture
def domains_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled domain files, for tests that edit them."""
    target = tmp_path / "domains"
    target.mkdir()
    for source in DOMAINS.glob("*.y*ml"):
        (target / source.name).write_bytes(source.read_bytes())
    return target
