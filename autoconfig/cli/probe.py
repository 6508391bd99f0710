"""``autoconfig probe ADDRESS``: what each mail client would end up with, from outside."""

from __future__ import annotations

from pathlib import Path

import click

from autoconfig.address import parse_nameserver
from autoconfig.cli.common import parse_cli_address
from autoconfig.dns.query import DnsUnavailableError, Resolver
from autoconfig.probe.clients import NAMES, failed, probe_all
from autoconfig.probe.report import json_report, text_report
from autoconfig.probe.transport import ConnectTo, Session, parse_connect_to, parse_resolve


def _nameserver(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_nameserver(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return value


def _connect_to(_ctx: click.Context, _param: click.Parameter,
                values: tuple[str, ...]) -> tuple[ConnectTo, ...]:
    try:
        return tuple(parse_connect_to(value) for value in values)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _resolve(_ctx: click.Context, _param: click.Parameter,
             values: tuple[str, ...]) -> dict[tuple[str, int], str]:
    try:
        return {(host, port): address for host, port, address in map(parse_resolve, values)}
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@click.argument("address")
@click.option("--client", "clients", multiple=True, type=click.Choice(NAMES),
              help="Probe only this client (repeatable) [default: all].")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--nameserver", callback=_nameserver, default=None,
              help="Ask this DNS server (IP[:PORT]) instead of the system resolver.")
@click.option("--resolve", "resolve", multiple=True, callback=_resolve, metavar="HOST:PORT:ADDR",
              help="Connect to ADDR for HOST:PORT without asking DNS (as curl's --resolve).")
@click.option("--connect-to", "connect_to", multiple=True, callback=_connect_to,
              metavar="HOST1:PORT1:HOST2:PORT2",
              help="Send HOST1:PORT1's connections to HOST2:PORT2 (as curl's --connect-to;"
                   " an empty HOST1/PORT1 matches any, an empty HOST2/PORT2 keeps it).")
@click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, help="Trust this CA file (TLS and profile signatures) instead of"
                                 " the system's.")
@click.option("--time-limit", type=click.FloatRange(1, 600), default=60.0, show_default=True,
              help="Seconds for the whole probe.")
def probe(  # noqa: PLR0917 - click passes every option positionally
    address: str, clients: tuple[str, ...], output: str, nameserver: str | None,
    resolve: dict[tuple[str, int], str], connect_to: tuple[ConnectTo, ...],
    ca_file: Path | None, time_limit: float,
) -> None:
    """Follow each client's discovery for ADDRESS; exit 1 if any client would fail.

    Sends no password or other credential: where a client would, the report says so.
    """
    parsed = parse_cli_address(address)
    try:
        resolver = Resolver(nameserver, timeout=3.0)
    except DnsUnavailableError as error:
        raise click.ClickException(str(error)) from None
    session = Session(resolver, ca_file, connect_to, resolve, time_limit)
    verdicts = probe_all(parsed, session, clients)
    if output == "json":
        click.echo(json_report(str(parsed), verdicts, session.sent), nl=False)
    else:
        click.echo(text_report(str(parsed), verdicts), nl=False)
    if failed(verdicts):
        raise SystemExit(1)
