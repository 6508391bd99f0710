"""autoconfig as users get it: the built wheel, installed (not editable) in its own venv.

``make test`` builds the sdist and wheel, checks them with twine and installs the wheel
into ``.venv-wheel``, named by ``WHEEL_VENV_UNDER_TEST``. Run without it (plain
``pytest``), the first test that needs the installed server builds and installs the
wheel itself, once per session, so no way of running the suite tests the checkout by
mistake. Every server a test starts runs from a directory holding a decoy
``autoconfig/`` package: if the working directory could shadow the installed code,
the decoy would answer and the tests would fail.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from functools import cache
from pathlib import Path

from tests.support.paths import REPO

DECOY_ANSWER = "decoy autoconfig from the working directory"
_DECOY_PACKAGE = f'''"""Not autoconfig: a stand-in no served process may ever import."""
from flask import Flask


def create_app(*args, **kwargs):
    app = Flask(__name__)
    app.add_url_rule("/<path:anything>", "decoy", lambda anything: {DECOY_ANSWER!r})
    app.add_url_rule("/", "decoy_root", lambda: {DECOY_ANSWER!r})
    return app
'''


def _scratch_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _run(command: list[str], **kwargs: object) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def _build_and_install() -> Path:
    """Build the wheel from this checkout and install it into a fresh venv."""
    scratch = _scratch_dir("autoconfig-wheel-")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(scratch / "dist"), str(REPO)])
    wheel = next((scratch / "dist").glob("mail_autoconfig-*.whl"))
    target = scratch / "venv"
    venv.create(target, with_pip=True)
    # with the ldap extra, as `make install-wheel` does: the directory tests need it
    _run([str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[ldap]"])
    return target


@cache
def installed_venv() -> Path:
    """The venv holding the installed wheel (checked: not the checkout, not editable)."""
    named = os.environ.get("WHEEL_VENV_UNDER_TEST")
    target = Path(named).resolve() if named else _build_and_install()
    python = target / "bin" / "python"
    if not python.is_file():
        raise AssertionError(f"WHEEL_VENV_UNDER_TEST={named!r}: no venv there (run `make test`)")
    where = subprocess.run(
        [str(python), "-I", "-c", "import autoconfig; print(autoconfig.__file__)"],
        capture_output=True, text=True, check=False, cwd=decoy_directory(),
    )
    package = Path(where.stdout.strip()).resolve()
    from_wheel = package.is_relative_to(target) and not package.is_relative_to(REPO / "autoconfig")
    if where.returncode != 0 or not from_wheel:
        raise AssertionError(
            f"{target}: autoconfig is not installed from a wheel there"
            f" ({where.stdout}{where.stderr})"
        )
    return target


def installed_command() -> Path:
    """The ``autoconfig`` console script of the installed wheel."""
    return installed_venv() / "bin" / "autoconfig"


@cache
def decoy_directory() -> Path:
    """A working directory whose ``autoconfig/`` package is not the real one."""
    directory = _scratch_dir("autoconfig-cwd-")
    (directory / "autoconfig").mkdir()
    (directory / "autoconfig" / "__init__.py").write_text(_DECOY_PACKAGE)
    return directory


def run_installed(
    *arguments: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``autoconfig ARGUMENTS`` as a process: real stdin, exit status."""
    result = subprocess.run(
        [str(installed_command()), *arguments], input=stdin, capture_output=True, timeout=120,
        check=False, cwd=decoy_directory(), env={**os.environ, **(env or {})},
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )
