"""``autoconfig render CLIENT ADDRESS``: print the exact bytes the server sends.

With a directory configured (AUTOCONFIG_LDAP_*) and a file that asks it, the login name
(and name) come from there, as the server's would.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from autoconfig.address import EmailAddress
from autoconfig.answers.apple import usable_name
from autoconfig.cli.common import (
    BadSettings,
    config_for,
    domains_option,
    load_registry,
    parse_cli_address,
)
from autoconfig.cli.directory import directory_for_commands
from autoconfig.directory import UserConfig, personalize
from autoconfig.domains.records import DomainConfig, Protocol
from autoconfig.render.autodiscover import render_pox_personal, render_pox_settings
from autoconfig.render.mobileconfig import (
    ProfileOptions,
    ProfileRequestError,
    check_account_name,
    incoming_server,
    render_mobileconfig,
)
from autoconfig.render.pacc import render_pacc
from autoconfig.render.thunderbird import render_thunderbird
from autoconfig.settings import Settings, SettingsError
from autoconfig.signing import SigningError, configured_signer


def _for_user(config: DomainConfig, address: EmailAddress) -> UserConfig:
    """``config`` for ``address`` as the server would answer it, directory included."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise BadSettings(error) from None
    with directory_for_commands(settings) as directory:
        return personalize(directory, config, address)


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
    sys.stdout.buffer.write(render_thunderbird(_for_user(config, parsed).config))


@render.command()
@click.argument("address")
@domains_option
def pacc(address: str, domains_dir: Path | None) -> None:
    """The PACC document of ADDRESS's domain (its SHA-256 goes into DNS: `dns records`)."""
    parsed = parse_cli_address(address)
    config = config_for(load_registry(domains_dir), parsed)
    sys.stdout.buffer.write(render_pacc(config, parsed.domain))


@render.command()
@click.argument("address")
@domains_option
def outlook(address: str, domains_dir: Path | None) -> None:
    """The Autodiscover POX settings response (what Outlook gets for a POST)."""
    parsed = parse_cli_address(address)
    config = config_for(load_registry(domains_dir), parsed)
    user = _for_user(config, parsed)
    render_pox = render_pox_settings if user.config is config else render_pox_personal
    sys.stdout.buffer.write(render_pox(user.config, parsed.domain, parsed))


@render.command()
@click.argument("address")
@click.option("--signed", is_flag=True, help="Sign with AUTOCONFIG_SIGNING_CERT/_KEY/_CHAIN.")
@click.option(
    "--protocol", type=click.Choice(["imap", "pop3", "activesync"]), default=None,
    help="Incoming server to set up [default: the first in the domain file];"
    " activesync: an Exchange ActiveSync account (the file's activesync URL).",
)
@click.option("--name", default=None, help="The sender's display name (EmailAccountName).")
@domains_option
def apple(
    address: str, signed: bool, protocol: str | None, name: str | None, domains_dir: Path | None
) -> None:
    """The Apple configuration profile (.mobileconfig), unsigned unless --signed."""
    parsed = parse_cli_address(address)
    config = config_for(load_registry(domains_dir), parsed)
    user = _for_user(config, parsed)
    try:
        settings = Settings.from_env()
        activesync = protocol == "activesync"
        options = ProfileOptions(
            settings.profile_prefix,
            Protocol(protocol) if protocol and not activesync else None,
            check_account_name(name) if name else usable_name(user.name),
            activesync,
        )
        incoming_server(user.config, options.protocol)
        body = render_mobileconfig(user.config, parsed, options)
        signer = configured_signer(settings) if signed else None
    except SettingsError as error:
        raise BadSettings(error) from None
    except (SigningError, ProfileRequestError) as error:
        raise click.ClickException(str(error)) from None
    if signed and signer is None:
        raise click.ClickException(
            "--signed needs AUTOCONFIG_SIGNING_CERT and AUTOCONFIG_SIGNING_KEY"
        )
    sys.stdout.buffer.write(signer.sign(body) if signer else body)
