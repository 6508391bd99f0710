"""The app in-process (werkzeug's test client): start-up checks and shared behaviour.

Beside, never instead of, the tests against the installed server: these pin what
``create_app`` checks before any request and how views answer, without a socket.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from babel.support import Translations
from werkzeug.test import Client

import autoconfig
from autoconfig.address import EmailAddress
from autoconfig.domains.registry import load_directory
from autoconfig.render.mobileconfig import ProfileOptions, render_mobileconfig
from autoconfig.settings import Settings
from autoconfig.web.resources import REQUIRED_TEMPLATES, ResourcesMissingError, checked_templates
from tests.support.cli import CliResult
from tests.support.paths import DOMAINS, REPO

EXAMPLE = load_directory(DOMAINS).by_domain["example.com"]
ALICE = EmailAddress("alice", "example.com")
PROFILE_PREFIX = Settings.from_env({}).profile_prefix
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


def test_the_page_and_health_answer_in_process(client: Client) -> None:
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
        "domains: 4 files, 6 domains served, 0 errors, 0 warnings"
    )


def test_each_request_gets_its_own_languages_profile(client: Client) -> None:
    # The kept translators and prepared profiles hold every language apart.
    url = "/apple/profile.mobileconfig?emailaddress=alice@example.com"
    catalogs = Path(autoconfig.__file__).parent / "translations"
    expected = {
        "en": render_mobileconfig(EXAMPLE, ALICE, ProfileOptions(PROFILE_PREFIX)),
        "de": render_mobileconfig(EXAMPLE, ALICE, ProfileOptions(
            PROFILE_PREFIX, translate=Translations.load(str(catalogs), ["de"]).gettext)),
        "fr": render_mobileconfig(EXAMPLE, ALICE, ProfileOptions(
            PROFILE_PREFIX, translate=Translations.load(str(catalogs), ["fr"]).gettext)),
    }
    assert len(set(expected.values())) == 3
    for _ in range(2):
        assert client.get(url).data == expected["en"]
        assert client.get(url + "&lang=de").data == expected["de"]
        assert client.get(url, headers={"Accept-Language": "fr-CH, de;q=0.5"}).data == (
            expected["fr"])
        assert client.get(url + "&lang=de", headers={"Accept-Language": "fr"}).data == (
            expected["de"])
