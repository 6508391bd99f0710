"""``autoconfig probe ADDRESS``: what each mail client would end up with, from outside.

Exit status: 0 when every selected client configures itself (warnings allowed), 1
when some client would fail, 2 for bad input or options: one line on stderr and,
under ``--format json``, a JSON error object on stdout. The options are checked here
rather than by click, so that even a bad option gets that JSON object.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from autoconfig.address import AddressError, EmailAddress, parse_address, parse_nameserver
from autoconfig.dns.query import DnsUnavailableError, Resolver
from autoconfig.probe.clients import NAMES, failed, probe_all
from autoconfig.probe.report import json_error, json_report, text_report
from autoconfig.probe.result import Status, overall
from autoconfig.probe.servers import check_servers, server_lines
from autoconfig.probe.suffix import is_public_suffix
from autoconfig.probe.transport import ConnectTo, Session, parse_connect_to, parse_resolve

BAD_INPUT = 2
DNS_TIMEOUT = 3.0
T = TypeVar("T")


class BadInput(Exception):
    """An argument or option the probe cannot use; the message says which and why."""


def _each(option: str, values: tuple[str, ...], parse: Callable[[str], T]) -> list[T]:
    try:
        return [parse(value) for value in values]
    except ValueError as error:
        raise BadInput(f"{option}: {error}") from None


def _address(text: str) -> EmailAddress:
    try:
        address = parse_address(text)
    except AddressError as error:
        raise BadInput(f"invalid email address {text!r}: {error}") from None
    if is_public_suffix(address.domain):
        raise BadInput(f"{address.domain} is a public suffix (a registry, not a mail domain):"
                       " the probe sends no address there")
    return address


def _trust(ca_file: str | None) -> Path | None:
    if ca_file is None:
        return None
    path = Path(ca_file)
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as error:
        raise BadInput(f"--ca-file {ca_file}: not a readable PEM certificate file"
                       f" ({getattr(error, 'strerror', None) or error})") from None
    return path


def _session(nameserver: str | None, ca_file: str | None, connect_to: tuple[str, ...],
             resolve: tuple[str, ...], time_limit: float) -> Session:
    if nameserver is not None:
        _each("--nameserver", (nameserver,), parse_nameserver)
    rules: list[ConnectTo] = _each("--connect-to", connect_to, parse_connect_to)
    staged = {(h, p): a for h, p, a in _each("--resolve", resolve, parse_resolve)}
    if not 1 <= time_limit <= 600:
        raise BadInput(f"--time-limit {time_limit:g}: give 1 to 600 seconds")
    cafile = _trust(ca_file)
    try:
        resolver = Resolver(nameserver, timeout=DNS_TIMEOUT)
    except DnsUnavailableError as error:
        raise BadInput(str(error)) from None
    return Session(resolver, cafile, tuple(rules), staged, time_limit, nameserver=nameserver)


@click.command()
@click.argument("address")
@click.option("--client", "clients", multiple=True, metavar="NAME",
              help=f"Probe only this client (repeatable): {', '.join(NAMES)} [default: all].")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--nameserver", default=None,
              help="Ask this DNS server (IP[:PORT]) instead of the system resolver.")
@click.option("--resolve", "resolve", multiple=True, metavar="HOST:PORT:ADDR",
              help="Connect to ADDR for HOST:PORT without asking DNS (as curl's --resolve).")
@click.option("--connect-to", "connect_to", multiple=True, metavar="HOST1:PORT1:HOST2:PORT2",
              help="Send HOST1:PORT1's connections to HOST2:PORT2 (as curl's --connect-to;"
                   " an empty HOST1/PORT1 matches any, an empty HOST2/PORT2 keeps it).")
@click.option("--ca-file", default=None, metavar="FILE",
              help="Trust this CA file (TLS and profile signatures) instead of the system's.")
@click.option("--time-limit", type=float, default=60.0, show_default=True,
              help="Seconds for the whole probe (1-600); each client gets its share.")
@click.option("--servers/--no-servers", default=True, show_default=True,
              help="Also check the IMAP, POP3 and SMTP servers the clients would configure"
                   " (greeting, TLS, certificate, AUTH; never logs in).")
def probe(  # noqa: PLR0917 - click passes every option positionally
    address: str, clients: tuple[str, ...], output: str, nameserver: str | None,
    resolve: tuple[str, ...], connect_to: tuple[str, ...], ca_file: str | None,
    time_limit: float, servers: bool,
) -> None:
    """Follow each client's discovery for ADDRESS; exit 1 if any client would fail.

    Sends no password or other credential: where a client would, the report says so.
    """
    try:
        unknown = [name for name in clients if name not in NAMES]
        if unknown:
            raise BadInput(f"--client {unknown[0]!r}: choose from {', '.join(NAMES)}")
        parsed = _address(address)
        session = _session(nameserver, ca_file, connect_to, resolve, time_limit)
    except BadInput as error:
        if output == "json":
            click.echo(json_error(str(error)), nl=False)
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(BAD_INPUT) from None
    verdicts = probe_all(parsed, session, clients, reserved=1 if servers else 0)
    checks = []
    if servers:
        session.start_share(1)
        checks = check_servers(session, verdicts)
    checked = overall([c.status for c in checks])
    if output == "json":
        extra = {"servers": [c.to_json() for c in checks]} if servers else {}
        click.echo(json_report(str(parsed), verdicts, session.sent, extra, checked), nl=False)
    else:
        click.echo(text_report(str(parsed), verdicts, server_lines(checks), checked), nl=False)
    if failed(verdicts) or checked is Status.FAIL:
        raise SystemExit(1)
