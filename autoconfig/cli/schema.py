"""``autoconfig schema``: the JSON Schema of a domain file, for editors."""

from __future__ import annotations

import json

import click

from autoconfig.domains.fileformat import json_schema


@click.command()
def schema() -> None:
    """Print the JSON Schema of a domain file (for yaml-language-server and others).

    Save it beside your files (``autoconfig schema > domains/schema.json``) and start
    each file with ``# yaml-language-server: $schema=schema.json``.
    """
    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))
