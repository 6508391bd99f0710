"""``autoconfig serve``: run the app under gunicorn with the project's settings."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from autoconfig import create_app
from autoconfig.cli.common import default_domains_dir, domains_option
from autoconfig.domains.registry import NoValidDomainsError
from autoconfig.gunicorn_app import GunicornSettingsError, PreloadedApplication, read_settings
from autoconfig.resources import ResourcesMissingError
from autoconfig.settings import Settings, SettingsError
from autoconfig.signing import SigningError

# What an admin can get wrong before anything is served: one message each, no traceback.
START_ERRORS = (
    GunicornSettingsError, NoValidDomainsError, ResourcesMissingError, SettingsError, SigningError,
)


@click.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT or unix:PATH.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@domains_option
def serve(bind: str, workers: int | None, domains_dir: Path | None) -> None:
    """Serve the domain files with gunicorn (never the Flask development server)."""
    directory = (domains_dir or default_domains_dir()).resolve()
    try:
        read_settings()  # a bad gunicorn value stops us before the files are read
        app = create_app(Settings.from_env().with_domains(directory))
    except START_ERRORS as error:
        raise click.ClickException(str(error)) from None
    sys.stdout.flush()
    PreloadedApplication(app, {"bind": bind, "workers": workers}).run()
