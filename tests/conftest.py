"""Shared fixtures: the real server on the bundled domains, the app in-process, the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from autoconfig.server.app import Application, create_app
from autoconfig.settings import Settings
from tests.support.cli import CliResult, run_cli
from tests.support.paths import DOMAINS
from tests.support.server import RunningServer, run_server


@pytest.fixture
def app() -> Application:
    """The app of this checkout in-process, on the bundled domains (no reload thread)."""
    return create_app(Settings.from_env({"AUTOCONFIG_RELOAD_INTERVAL": "0"}).with_domains(DOMAINS))


@pytest.fixture
def client(app: Application) -> Client:
    """werkzeug's test client for ``app``: requests without a socket."""
    return Client(app)


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run ``autoconfig ARGS`` in-process (tests/support/cli.py)."""
    return run_cli


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
