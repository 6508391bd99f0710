"""``autoconfig serve``: run the app under gunicorn with the project's settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from autoconfig.cli.common import default_domains_dir, domains_option, load_registry
from autoconfig.settings import Settings, SettingsError
from autoconfig.signing import SigningError, configured_signer

GUNICORN_CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@click.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT or unix:PATH.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@domains_option
def serve(bind: str, workers: int | None, domains_dir: Path | None) -> None:
    """Serve the domain files with gunicorn (never the Flask development server)."""
    directory = (domains_dir or default_domains_dir()).resolve()
    load_registry(directory)  # refuse to start, with every error, before gunicorn forks
    try:  # a signing file that cannot be used stops us here, with its reason
        configured_signer(Settings.from_env())
    except (SettingsError, SigningError) as error:
        raise click.ClickException(str(error)) from None
    os.environ["AUTOCONFIG_DOMAINS"] = str(directory)
    arguments = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), "--bind", bind]
    if workers:
        arguments += ["--workers", str(workers)]
    arguments.append("autoconfig:create_app()")
    sys.stdout.flush()
    os.execv(sys.executable, arguments)  # noqa: S606 - replaces this process by gunicorn
