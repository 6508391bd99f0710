"""The ``autoconfig`` admin command (click, as Flask uses).

Each command lives in its own module; this one only assembles the group.
Exit status: 0 success, 1 a finding or bad input (with a message, never a traceback).
"""

from __future__ import annotations

import click

from autoconfig import distribution
from autoconfig.cli.check import check
from autoconfig.cli.dns import dns
from autoconfig.cli.docs import docs
from autoconfig.cli.healthcheck import healthcheck
from autoconfig.cli.importers import import_
from autoconfig.cli.probe import probe
from autoconfig.cli.render import render
from autoconfig.cli.schema import schema
from autoconfig.cli.serve import serve
from autoconfig.cli.settings import settings_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=distribution.NAME)
def main() -> None:
    """Serve and check mail-client autoconfiguration from domain files."""


for command in (
    check, render, schema, serve, settings_command, healthcheck, probe, dns, import_, docs
):
    main.add_command(command)
