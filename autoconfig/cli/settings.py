"""``autoconfig settings``: what the environment sets, checked as ``serve`` checks it."""

from __future__ import annotations

import os

import click

from autoconfig.cli.common import BadSettings
from autoconfig.settings import (
    Settings,
    SettingsError,
    markdown_table,
    unknown_variables,
    variable,
)


@click.command("settings")
@click.option("--markdown", is_flag=True,
              help="Print the table of every variable, as docs/settings.md shows it.")
def settings_command(markdown: bool) -> None:
    """Check the AUTOCONFIG_* variables and print the value of each (or the table)."""
    if markdown:
        click.echo(markdown_table(), nl=False)
        return
    for warning in unknown_variables():
        click.echo(f"Warning: {warning}", err=True)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise BadSettings(error) from None
    for field in Settings.model_fields:
        name = variable(field)
        origin = "" if os.environ.get(name) else "  (default)"
        value = getattr(settings, field)
        if isinstance(value, tuple):
            value = ",".join(str(item) for item in value)
        click.echo(f"{name}={'' if value is None else value}{origin}")
