"""The clients ``autoconfig probe`` knows, in the order it reports them.

To add a client, write a module with ``NAME``, ``TITLE`` and
``probe_client(probe) -> Verdict`` and add one ``Client`` line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autoconfig.address import EmailAddress
from autoconfig.probe import android, apple, deltachat, outlook, pacc, thunderbird
from autoconfig.probe.fetch import Probe
from autoconfig.probe.result import Status, Step, Verdict
from autoconfig.probe.transport import Session, TimeLimitError


@dataclass(frozen=True, slots=True)
class Client:
    """One client's discovery: its name on the command line, its title, its steps."""

    name: str
    title: str
    run: Callable[[Probe], Verdict]
    timeout: float = 5.0  # per request: Thunderbird's FetchHTTP.sys.mjs default


CLIENTS: tuple[Client, ...] = (
    Client(thunderbird.NAME, thunderbird.TITLE, thunderbird.probe_client),
    Client(android.NAME, android.TITLE, android.probe_client),
    Client(outlook.NAME, outlook.TITLE, outlook.probe_client),
    Client(apple.NAME, apple.TITLE, apple.probe_client),
    Client(deltachat.NAME, deltachat.TITLE, deltachat.probe_client),
    Client(pacc.NAME, pacc.TITLE, pacc.probe_client),
)
NAMES = tuple(client.name for client in CLIENTS)


CLEARTEXT = ("plain", "none")  # every client's word for "no TLS at all"
NO_PASSWORD = ("none", "client-ip-address")  # logins that send no password


def probe_all(address: EmailAddress, session: Session, names: tuple[str, ...],
              reserved: int = 0) -> list[Verdict]:
    """Run the chosen clients one after the other, each in its share of the time.

    ``reserved`` parts of the time limit are kept for what comes after the clients
    (the mail-server checks); each client gets an equal part of what is left when
    it starts, so a hanging host ends one client's probe, not every later one's.
    """
    chosen = [client for client in CLIENTS if not names or client.name in names]
    verdicts = []
    for index, client in enumerate(chosen):
        session.start_share(len(chosen) - index + reserved)
        verdict = Verdict(client.name, client.title)
        try:
            client.run(Probe(address, session, verdict, client.timeout))
        except TimeLimitError as error:
            verdict.steps.append(Step("probe", error.message, False, error.fix))
            verdict.fail(error.message, error.fix)
        verdicts.append(settle(verdict))
    return verdicts


def settle(verdict: Verdict) -> Verdict:
    """A configured client's caveats in its headline: cleartext, and serious failures.

    A server without TLS that takes a password is a warning for the clients that
    accept it (the ones that refuse it fail while reading the answer); a certificate
    error or a hanging server on a path the client takes is a warning even when a
    later path works, since the user meets it first.
    """
    if verdict.status is Status.FAIL:
        return verdict
    clear = [s for s in verdict.settings if s.security.lower() in CLEARTEXT
             and s.authentication.lower() not in NO_PASSWORD]
    if clear:
        servers = ", ".join(dict.fromkeys(f"{s.host}:{s.port}" for s in clear))
        verdict.status = Status.WARNING
        verdict.summary += f"; the password would be sent in clear to {servers}"
        verdict.fix = verdict.fix or ("give every server `security: tls` (or `starttls`) in"
                                      " the domain file")
    serious = [s for s in verdict.steps if not s.ok and s.serious]
    if serious and verdict.settings:
        verdict.status = Status.WARNING
        verdict.summary += f"; but first {serious[0].action}: {serious[0].outcome}"
        verdict.fix = verdict.fix or serious[0].fix
    return verdict


def failed(verdicts: list[Verdict]) -> bool:
    """Whether any client would not configure itself."""
    return any(v.status is Status.FAIL for v in verdicts)
