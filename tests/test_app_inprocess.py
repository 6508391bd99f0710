"""The app in-process (Flask's test client): start-up checks and shared behaviour.

Beside, never instead of, the tests against the installed server: these pin what
``create_app`` checks before any request and how views answer, without a socket.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from autoconfig.resources import REQUIRED_TEMPLATES, ResourcesMissingError, checked_templates
from tests.support.cli import CliResult
from tests.support.paths import REPO

REINSTALL = (
    "this installation of autoconfig is incomplete (reinstall it from a wheel or sdist"
    " built with `python -m build`)"
)


def test_the_checkout_templates_hold_every_required_file() -> None:
    assert checked_templates(REPO / "templates") == REPO / "templates"


def test_a_templates_folder_missing_a_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "apple").mkdir()
    (tmp_path / REQUIRED_TEMPLATES[0]).write_text("<html></html>")
    with pytest.raises(ResourcesMissingError) as caught:
        checked_templates(tmp_path)
    missing = ", ".join(REQUIRED_TEMPLATES[1:])
    assert str(caught.value) == f"{tmp_path}: missing {missing}; {REINSTALL}"


def test_no_templates_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ResourcesMissingError) as caught:
        checked_templates(tmp_path / "templates")
    assert str(caught.value) == f"{tmp_path / 'templates'}: no templates folder; {REINSTALL}"


def test_the_page_and_health_answer_in_process(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    page = client.get("/apple?emailaddress=alice%40example.com")
    assert page.status_code == 200
    assert "<title>Mail settings for alice@example.com</title>" in page.get_data(as_text=True)


def test_the_cli_fixture_runs_check_on_the_bundled_domains(
    cli: Callable[..., CliResult],
) -> None:
    result = cli("check", "domains", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == (
        "domains: 4 files, 6 domains served, 0 errors, 4 warnings"
    )
