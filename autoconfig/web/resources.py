"""The files the server reads at run time besides domain files: found once, checked once.

The HTML templates live in the repository's top-level ``templates/`` folder; the build
maps that folder into the package (``autoconfig/templates`` in the wheel and in any
non-editable install, see ``[tool.setuptools.package-dir]`` in pyproject.toml). A source
checkout (an editable install, the tests' in-process app) reads the folder where it is.
Start-up refuses to serve when a file is missing, so a broken install can never show
up later as a 500 on the page people see.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # autoconfig/

# Every template a view renders: checked at start-up, before anything is served.
REQUIRED_TEMPLATES = ("apple/page.html", "apple/style.css")


class ResourcesMissingError(RuntimeError):
    """The installation lacks a file the server needs to answer requests."""


def _source_checkout_templates() -> Path | None:
    """``templates/`` beside the package, only inside a source checkout (pyproject.toml)."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "templates").is_dir():
        return root / "templates"
    return None


_REINSTALL = (
    "this installation of autoconfig is incomplete (reinstall it from a wheel or sdist"
    " built with `python -m build`)"
)


def checked_templates(folder: Path) -> Path:
    """``folder`` if it holds every required template, else a message naming what lacks."""
    if not folder.is_dir():
        raise ResourcesMissingError(f"{folder}: no templates folder; {_REINSTALL}")
    missing = [name for name in REQUIRED_TEMPLATES if not (folder / name).is_file()]
    if missing:
        raise ResourcesMissingError(f"{folder}: missing {', '.join(missing)}; {_REINSTALL}")
    return folder


def templates_dir() -> Path:
    """The folder holding the HTML templates: the package's, else a source checkout's."""
    packaged = PACKAGE_DIR / "templates"
    checkout = _source_checkout_templates()
    if packaged.is_dir() or checkout is None:
        return checked_templates(packaged)
    return checked_templates(checkout)
