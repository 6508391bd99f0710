"""``autoconfig import xml FILE`` and ``autoconfig import srv DOMAIN``."""

from __future__ import annotations

from typing import BinaryIO

import click
from pydantic import ValidationError

from autoconfig.cli.dns import cli_domain, nameserver_option
from autoconfig.dns.query import DnsUnavailableError, Resolver
from autoconfig.domains.fileformat import DomainFile
from autoconfig.domains.load import parse_yaml
from autoconfig.importers import ImportFailedError
from autoconfig.importers.srv import query_srv, srv_to_yaml
from autoconfig.importers.xml import import_thunderbird

MAX_XML_BYTES = 1 << 20


def _echo_checked(text: str, source: str) -> None:
    """Print the YAML only if our own loader accepts it (it always should)."""
    try:
        data, _ = parse_yaml(text, source)
        DomainFile.model_validate(data)
    except (ValueError, ValidationError) as error:
        message = f"the imported file does not validate (a bug): {error}"
        raise click.ClickException(message) from None
    click.echo(text, nl=False)


@click.group(name="import")
def import_() -> None:
    """Build a domain file from what a provider already publishes."""


@import_.command()
@click.argument("file", type=click.File("rb"))
def xml(file: BinaryIO) -> None:
    """Convert a Thunderbird config-v1.1.xml (FILE, or - for stdin) into YAML."""
    data = file.read(MAX_XML_BYTES + 1)
    if len(data) > MAX_XML_BYTES:
        raise click.ClickException(f"{file.name}: larger than {MAX_XML_BYTES} bytes")
    try:
        _echo_checked(import_thunderbird(data, file.name), file.name)
    except ImportFailedError as error:
        raise click.ClickException(str(error)) from None


@import_.command()
@click.argument("domain")
@nameserver_option
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=3.0, show_default=True)
def srv(domain: str, nameserver: str | None, timeout: float) -> None:
    """Build a domain file from DOMAIN's RFC 6186 SRV records."""
    name = cli_domain(domain)
    try:
        text = srv_to_yaml(name, query_srv(name, Resolver(nameserver, timeout)))
    except (ImportFailedError, DnsUnavailableError) as error:
        raise click.ClickException(str(error)) from None
    _echo_checked(text, f"SRV records of {name}")
