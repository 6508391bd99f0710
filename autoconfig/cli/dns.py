"""``autoconfig dns records|check DOMAIN``: what to publish, and what is published."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import click

from autoconfig.address import AddressError, normalize_domain, parse_nameserver
from autoconfig.cli.common import domains_option, load_registry
from autoconfig.dns.check import Severity, TlsOptions, check_domain
from autoconfig.dns.query import DnsUnavailableError, Resolver
from autoconfig.dns.records import DEFAULT_TTL, records_for, zone_snippet
from autoconfig.domains.records import DomainConfig


def cli_domain(text: str) -> str:
    """A domain from the command line, or exit 1 saying what is wrong with it."""
    try:
        return normalize_domain(text)
    except AddressError as error:
        raise click.ClickException(f"DOMAIN {text!r}: {error}") from None


def _server_host(text: str | None) -> str | None:
    """A host name, or an IPv4/IPv6 address (for A/AAAA lines), in canonical form."""
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]")))
    except ValueError:
        pass
    try:
        return normalize_domain(text)
    except AddressError as error:
        raise click.ClickException(f"--server-host {text!r}: {error}") from None


def _nameserver(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_nameserver(value)
        except ValueError as error:
            raise click.ClickException(f"--nameserver: {error}") from None
    return value


def _config(domain: str, domains_dir: Path | None) -> DomainConfig:
    config = load_registry(domains_dir).lookup(domain)
    if config is None:
        raise click.ClickException(f"no domain file lists {domain}")
    return config


nameserver_option = click.option(
    "--nameserver", callback=_nameserver, default=None,
    help="Ask this server (IP[:PORT]) instead of the system resolver.",
)
server_host_option = click.option(
    "--server-host", envvar="AUTOCONFIG_SERVER_HOST", default=None,
    help="Host the autoconfig./autodiscover. names point at [default: $AUTOCONFIG_SERVER_HOST].",
)
format_option = click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True,
)


@click.group()
def dns() -> None:
    """DNS records a served domain should publish, and checks of what it publishes."""


@dns.command()
@click.argument("domain")
@domains_option
@server_host_option
@format_option
@click.option("--ttl", type=click.IntRange(1, 2**31 - 1), default=DEFAULT_TTL, show_default=True)
def records(
    domain: str, domains_dir: Path | None, server_host: str | None, output: str, ttl: int
) -> None:
    """Print the records DOMAIN should publish: a zone-file snippet, or JSON.

    The autoconfig., autodiscover. and ua-auto-config. names (CNAMEs, or A/AAAA when the
    server host is an address), the RFC 6186/8314 SRV records, `_autodiscover._tcp`,
    PACC's `_ua-auto-config` TXT digest and, from
    `caldav`/`carddav`, the RFC 6764 SRV and TXT records.
    """
    name = cli_domain(domain)
    config = _config(name, domains_dir)
    host = _server_host(server_host)
    if host is None:
        raise click.ClickException("give --server-host or set AUTOCONFIG_SERVER_HOST: the host"
                               " that autoconfig.<domain> and autodiscover.<domain> point at")
    found = records_for(config, name, host, ttl)
    if output == "json":
        payload = {"domain": name, "source": config.source, "records": [r.to_json() for r in found]}
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(zone_snippet(name, config.source, found), nl=False)


@dns.command()
@click.argument("domain")
@domains_option
@server_host_option
@format_option
@nameserver_option
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=3.0, show_default=True,
              help="Seconds to wait for each DNS answer.")
@click.option("--tls", is_flag=True,
              help="Also check the https names' certificates and fetch the PACC document.")
@click.option("--tls-port", type=click.IntRange(1, 65535), default=443, show_default=True)
@click.option("--tls-ca", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, help="Trust this CA file instead of the system's.")
def check(  # noqa: PLR0917 - click passes every option positionally
    domain: str, domains_dir: Path | None, server_host: str | None, output: str,
    nameserver: str | None, timeout: float, tls: bool, tls_port: int, tls_ca: Path | None,
) -> None:
    """Compare DOMAIN's published DNS with its domain file; exit 1 on any error.

    One line per finding, each problem with its fix: the MX, the autoconfig. and
    autodiscover. names, every SRV record, PACC's name and digest. Missing SRV records
    are warnings (Thunderbird does not use them).
    """
    name = cli_domain(domain)
    config = _config(name, domains_dir)
    tls_options = TlsOptions(tls_port, tls_ca, timeout) if tls else None
    try:
        resolver = Resolver(nameserver, timeout)
        findings = check_domain(config, name, resolver, _server_host(server_host), tls_options)
    except DnsUnavailableError as error:
        raise click.ClickException(f"cannot check {name}: {error}") from None
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    if output == "json":
        payload = {"domain": name, "errors": errors, "warnings": warnings,
                   "findings": [f.to_json() for f in findings]}
        click.echo(json.dumps(payload, indent=2))
    else:
        for finding in findings:
            click.echo(str(finding))
        click.echo(f"{name}: {errors} errors, {warnings} warnings")
    if errors:
        raise SystemExit(1)
