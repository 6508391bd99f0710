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


def probe_all(address: EmailAddress, session: Session, names: tuple[str, ...]) -> list[Verdict]:
    """Run the chosen clients one after the other (an overall time limit ends the rest)."""
    verdicts = []
    for client in CLIENTS:
        if names and client.name not in names:
            continue
        verdict = Verdict(client.name, client.title)
        try:
            client.run(Probe(address, session, verdict, client.timeout))
        except TimeLimitError as error:
            verdict.steps.append(Step("probe", error.message, False, error.fix))
            verdict.fail(error.message, error.fix)
        verdicts.append(verdict)
    return verdicts


def failed(verdicts: list[Verdict]) -> bool:
    """Whether any client would not configure itself."""
    return any(v.status is Status.FAIL for v in verdicts)
