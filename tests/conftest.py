"""Shared fixtures: the real server on the bundled domains, the app in-process, the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from autoconfig.server.app import Application, create_app
from autoconfig.settings import Settings
from tests.support.cli import CliResult, run_cli
from tests.support.directory import RunningDirectory, run_directory
from tests.support.domain_files import write_domain
from tests.support.paths import DOMAINS
from tests.support.server import RunningServer, run_server

# The daily tier (`make test-quick`, `pytest -m "not slow"`) leaves out every test that
# starts a process: a server, nginx, a DNS server, slapd, a browser, a container. These
# fixtures start one, and these modules start them inside their tests.
PROCESS_FIXTURES = frozenset({
    "bundled_server", "server", "signed_server", "branded_server", "nsd", "site", "browser",
    "backend", "proxy", "played", "image", "downloads", "directory", "deployment", "dns",
    "cluster", "volume_cluster",
})
PROCESS_MODULES = frozenset({
    "test_bench_scripts", "test_directory", "test_e2e_nginx", "test_groupware",
    "test_http_policy", "test_importers", "test_installed", "test_metrics", "test_mx_hosting",
    "test_fuzz", "test_pacc_e2e", "test_page_browser", "test_plain_wsgi_server",
    "test_probe_deployment", "test_probe_mx", "test_probe_safety", "test_probe_servers",
    "test_reload_and_startup", "test_scale",
    "test_signing", "test_two_backends", "test_worker", "test_log_forging", "test_shared_port",
    "test_edge_image",
})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts a process (left out by make test-quick)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that starts a process ``slow``."""
    for item in items:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        if module in PROCESS_MODULES or PROCESS_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDirectory]:
    """A throwaway slapd on loopback with the test people, one per module that asks."""
    with run_directory(tmp_path_factory.mktemp("ldap")) as running:
        yield running


@pytest.fixture
def domains_dir(tmp_path: Path) -> Path:
    """A folder with one domain file: example.com on imap.example.com."""
    folder = tmp_path / "domains"
    folder.mkdir()
    write_domain(folder, "example.com", "imap.example.com")
    return folder
