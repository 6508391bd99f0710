"""gunicorn run in-process around an app that is already built.

``autoconfig serve`` used to exec ``python -m gunicorn … autoconfig:create_app()``. Both
``python -m`` and gunicorn put the working directory first on ``sys.path``, so a server
started beside another ``autoconfig/`` folder (a checkout) imported that code instead of
the installed one, and the domain files were loaded twice (once to refuse a broken
directory cleanly, once in gunicorn's master). Running gunicorn's arbiter from this
process serves the code that was installed and the app loaded once, before the fork.
"""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

SETTINGS_FILE = Path(__file__).resolve().parent / "gunicorn.conf.py"


class GunicornSettingsError(ValueError):
    """The gunicorn settings file cannot be used (the AUTOCONFIG_* variables are checked in
    autoconfig/settings.py before it is read)."""


def read_settings(path: Path = SETTINGS_FILE) -> dict[str, Any]:
    """The public names ``gunicorn.conf.py`` defines, evaluated as gunicorn would."""
    try:
        namespace = runpy.run_path(str(path))
    except Exception as error:  # an edited file that no longer runs
        raise GunicornSettingsError(f"{path.name}: {error}") from None
    return {key: value for key, value in namespace.items() if not key.startswith("_")}


class PreloadedApplication(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn serving one Flask app built by the caller (``preload_app`` by nature)."""

    def __init__(self, app: Flask, overrides: Mapping[str, Any]) -> None:
        self._app = app
        self._overrides = dict(overrides)
        super().__init__()

    def load_config(self) -> None:
        """The shipped settings file, then the command line's options (HUP re-reads both)."""
        settings = {**read_settings(), **self._overrides}
        for key, value in settings.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self) -> Flask:
        """The app built before gunicorn started: no second load of the domain files."""
        return self._app
