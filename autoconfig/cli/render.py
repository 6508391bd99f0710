"""``autoconfig render CLIENT ADDRESS``: print the exact bytes the server sends."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from autoconfig.cli.common import config_for, domains_option, load_registry, parse_cli_address
from autoconfig.render.thunderbird import render_thunderbird


@click.group()
def render() -> None:
    """Print what the server would answer a client for ADDRESS."""


@render.command()
@click.argument("address")
@domains_option
def thunderbird(address: str, domains_dir: Path | None) -> None:
    """The clientConfig 1.1 document (config-v1.1.xml)."""
    parsed = parse_cli_address(address)
    config = config_for(load_registry(domains_dir), parsed)
    sys.stdout.buffer.write(render_thunderbird(config))
