"""What users install is what is tested: the wheel carries what the server reads.

The server under test everywhere else is already the installed wheel started from a
directory with a decoy ``autoconfig/`` package (tests/support/installed.py). These tests
say so explicitly, and show that an incomplete install refuses to start with a message
instead of answering 500 later.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.http import request
from tests.support.installed import (
    DECOY_ANSWER,
    decoy_directory,
    installed_venv,
    run_installed,
)
from tests.support.paths import DOMAINS, REPO
from tests.support.server import RunningServer

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


def installed_package(venv: Path) -> Path:
    return venv / "lib" / PY / "site-packages" / "autoconfig"


def test_the_installed_package_is_not_the_checkout() -> None:
    package = installed_package(installed_venv())
    assert (package / "__init__.py").is_file()
    assert not package.resolve().is_relative_to(REPO / "autoconfig")


def test_the_distribution_is_mail_autoconfig_and_the_command_autoconfig() -> None:
    """``autoconfig`` on PyPI is another project: we install as ``mail-autoconfig``."""
    venv = installed_venv()
    metadata = next((venv / "lib" / PY / "site-packages").glob("mail_autoconfig-*.dist-info"))
    assert "Name: mail-autoconfig\n" in (metadata / "METADATA").read_text()
    assert not list((venv / "lib" / PY / "site-packages").glob("autoconfig-*.dist-info"))
    result = subprocess.run(
        [str(venv / "bin" / "autoconfig"), "--version"],
        capture_output=True, text=True, timeout=60, check=True, cwd=decoy_directory(),
    )
    assert result.stdout == "autoconfig, version 0.1.0\n"


def test_the_wheel_carries_every_template_byte_for_byte() -> None:
    package = installed_package(installed_venv())
    shipped = sorted(p.relative_to(REPO / "templates") for p in (REPO / "templates").rglob("*")
                     if p.is_file())
    assert shipped  # the page and its stylesheet at least
    for relative in shipped:
        installed = package / "templates" / relative
        assert installed.read_bytes() == (REPO / "templates" / relative).read_bytes(), relative
    assert (package / "server" / "gunicorn.conf.py").read_bytes() == (
        REPO / "autoconfig" / "server" / "gunicorn.conf.py"
    ).read_bytes()


def test_the_wheel_carries_the_documentation_pages() -> None:
    """Messages point at `autoconfig docs TOPIC`: the installed package can print them."""
    package = installed_package(installed_venv())
    for page in sorted((REPO / "docs").glob("*.md")):
        assert (package / "docs" / page.name).read_bytes() == page.read_bytes(), page.name
    result = run_installed("docs", "dns#certificates")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## Certificates\n")


def test_the_server_started_beside_another_autoconfig_serves_the_installed_code(
    bundled_server: RunningServer,
) -> None:
    """The server runs in a directory whose ``autoconfig/`` would answer DECOY_ANSWER."""
    assert (decoy_directory() / "autoconfig" / "__init__.py").is_file()
    page = request(bundled_server.base, "/")
    assert page.status == 200
    assert "<title>Set up your mail</title>" in page.text
    assert DECOY_ANSWER not in page.text
    profile = request(bundled_server.base, "/apple?emailaddress=alice%40example.com")
    assert profile.status == 200
    assert "<title>Mail settings for alice@example.com</title>" in profile.text


def test_an_install_without_its_templates_refuses_to_start(tmp_path: Path) -> None:
    """A broken install says what is missing at start-up; it never serves a 500."""
    broken = tmp_path / "venv"
    shutil.copytree(installed_venv(), broken, symlinks=True)
    page = installed_package(broken) / "templates" / "apple" / "page.html"
    page.unlink()
    result = subprocess.run(
        [str(broken / "bin" / "python"), "-I", "-c", "from autoconfig.cli import main; main()",
         "serve", "--domains", str(DOMAINS), "--bind", "127.0.0.1:1"],
        capture_output=True, text=True, timeout=60, check=False, cwd=decoy_directory(),
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {page.parent.parent}: missing apple/page.html; this installation of"
        " autoconfig is incomplete (reinstall it from a wheel or sdist built with"
        " `python -m build`)"
    )
    assert "Traceback" not in result.stderr


def test_serve_without_a_domains_directory_says_what_it_needs(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run_installed("serve", "--domains", str(missing), "--bind", "127.0.0.1:1")
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {missing}: not a directory of domain files"
