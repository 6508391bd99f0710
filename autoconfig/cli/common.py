"""Pieces every CLI command shares: the ``--domains`` option and loading."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from autoconfig.address import AddressError, EmailAddress, parse_address
from autoconfig.domains.records import DomainConfig
from autoconfig.domains.registry import (
    NoValidDomainsError,
    Registry,
    load_directory,
    require_domains,
)
from autoconfig.settings import DEFAULT_DOMAINS_DIR, SettingsError, variable

F = TypeVar("F", bound=Callable[..., Any])


class BadSettings(click.ClickException):
    """Every bad setting on its own ``Error:`` line, exit 1: all of them at once, so an
    admin fixes them in one go (click's own exception prints one message)."""

    def __init__(self, error: SettingsError) -> None:
        super().__init__(str(error))
        self.problems = error.problems

    def show(self, file: IO[Any] | None = None) -> None:
        """One ``Error:`` line per bad value, on stderr."""
        for problem in self.problems:
            click.echo(f"Error: {problem}", file=file, err=file is None)


def default_domains_dir() -> Path:
    """``AUTOCONFIG_DOMAINS``, else ``./domains`` (docs/cli.md)."""
    return Path(os.environ.get(variable("domains")) or DEFAULT_DOMAINS_DIR)


def domains_option(function: F) -> F:
    """Add ``--domains DIR`` to a command."""
    return click.option(
        "--domains",
        "domains_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Directory of domain files [default: $AUTOCONFIG_DOMAINS or ./domains].",
    )(function)


def load_registry(directory: Path | None) -> Registry:
    """Load a directory for a command that needs something to serve."""
    directory = directory or default_domains_dir()
    try:
        return require_domains(load_directory(directory), directory)
    except NoValidDomainsError as error:
        raise click.ClickException(str(error)) from None


def parse_cli_address(text: str) -> EmailAddress:
    """Parse an address given on the command line; exit 1 with the reason if malformed."""
    try:
        return parse_address(text)
    except AddressError as error:
        raise click.ClickException(f"invalid email address {text!r}: {error}") from None


def config_for(registry: Registry, address: EmailAddress) -> DomainConfig:
    """The config serving ``address``, or a clear error."""
    config = registry.lookup(address.domain)
    if config is None:
        raise click.ClickException(f"no domain file serves {address.domain}")
    return config
