"""``autoconfig serve``: run the app under gunicorn with the project's settings."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from autoconfig.answers.metrics import MULTIPROCESS_VARIABLE
from autoconfig.cli.common import BadSettings, domains_option
from autoconfig.cli.directory import bind_test_at_start
from autoconfig.domains.registry import NoValidDomainsError
from autoconfig.server.access_log import LOGGER_CLASSES
from autoconfig.server.app import create_app
from autoconfig.server.application import GunicornSettingsError, PreloadedApplication, read_settings
from autoconfig.settings import Settings, SettingsError, unknown_variables
from autoconfig.signing import SigningError
from autoconfig.web.resources import ResourcesMissingError

# What an admin can get wrong before anything is served: one message each, no traceback.
START_ERRORS = (
    GunicornSettingsError, NoValidDomainsError, ResourcesMissingError, SettingsError, SigningError,
)


# gthread is served by its balanced variant (autoconfig/server/worker.py).
WORKER_CLASSES = {"gthread": "autoconfig.server.worker.BalancedThreadWorker", "sync": "sync"}


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's knobs from the settings (the command line's options already in them)."""
    return {
        "bind": settings.bind,
        "workers": settings.workers or os.cpu_count() or 2,
        "worker_class": WORKER_CLASSES[settings.worker_class],
        # gunicorn turns sync into gthread when threads > 1, so sync gets exactly one.
        "threads": settings.threads if settings.worker_class == "gthread" else 1,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "logger_class": LOGGER_CLASSES[settings.log_format],
    }


# The options are checked with the variables they override (Settings.from_env), so a
# bad option and a bad variable are reported together, each on its own line.
@click.command()
@click.option("--bind", default=None, help="HOST:PORT or unix:PATH [default: $AUTOCONFIG_BIND].")
@click.option("--workers", metavar="INTEGER", default=None,
              help="Worker processes, 1 or more [default: $AUTOCONFIG_WORKERS].")
@domains_option
def serve(bind: str | None, workers: str | None, domains_dir: Path | None) -> None:
    """Serve the domain files with gunicorn (never the Flask development server).

    Loads the domain files once, then runs gunicorn in the same process. Bad
    AUTOCONFIG_* settings or options stop it with exit status 1 and one line per bad
    value; so do a folder with no valid file, an unusable signing file or an
    incomplete installation. The settings are in `autoconfig docs settings`.
    """
    for warning in unknown_variables():
        click.echo(f"Warning: {warning}", err=True)
    try:  # every variable and option checked before anything starts
        settings = Settings.from_env(options={"--bind": bind, "--workers": workers})
    except SettingsError as error:
        raise BadSettings(error) from None
    try:
        read_settings()
        settings = settings.with_domains((domains_dir or settings.domains).resolve())
    except START_ERRORS as error:
        raise click.ClickException(str(error)) from None
    # prometheus_client's multiprocess mode: the workers' values meet in files here, a
    # fresh directory per start (stale files would add old counts), removed at the end.
    metrics_dir = tempfile.mkdtemp(prefix="autoconfig-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = metrics_dir
    master = os.getpid()
    try:
        try:
            app = create_app(settings)
        except START_ERRORS as error:
            raise click.ClickException(str(error)) from None
        bind_test_at_start(app.services.directory, app.store.snapshot.registry)
        sys.stdout.flush()
        PreloadedApplication(app, gunicorn_options(settings),
                             share_port=settings.so_reuseport).run()
    finally:
        if os.getpid() == master:  # a worker leaves through here too, after the fork
            shutil.rmtree(metrics_dir, ignore_errors=True)
