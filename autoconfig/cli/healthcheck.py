"""``autoconfig healthcheck``: ask the local server whether it answers (the image's health check).

It reads the address from ``AUTOCONFIG_BIND`` like ``serve``, so the health check
follows the server wherever it listens, and needs nothing in the image besides Python.
"""

from __future__ import annotations

import http.client

import click

from autoconfig.cli.common import BadSettings
from autoconfig.settings import Settings, SettingsError

# A server listening on every address is asked on loopback.
_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1", "": "127.0.0.1"}  # noqa: S104


@click.command()
@click.option("--path", default="/healthz", show_default=True, help="What to ask for.")
@click.option("--timeout", type=float, default=3.0, show_default=True, help="Seconds.")
def healthcheck(path: str, timeout: float) -> None:
    """Exit 0 when the server at $AUTOCONFIG_BIND answers PATH with 200, else 1."""
    try:
        bind = Settings.from_env().bind
    except SettingsError as error:
        raise BadSettings(error) from None
    if bind.startswith("unix:"):
        raise click.ClickException(f"AUTOCONFIG_BIND is a unix socket ({bind}); use TCP")
    host, _, port = bind.rpartition(":")
    host = _ANY.get(host, host).strip("[]")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        status = connection.getresponse().status
    except OSError as error:
        raise click.ClickException(f"http://{bind}{path}: {error}") from None
    finally:
        connection.close()
    if status != http.client.OK:
        raise click.ClickException(f"http://{bind}{path} answered {status}")
    click.echo(f"http://{bind}{path}: {status}")
