"""What a probe finds per client: the steps it took, and where the client ends up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The verdict: configures itself, configures itself with a caveat, or does not."""

    OK = "ok"
    WARNING = "warning"
    FAIL = "fail"


def overall(statuses: list[Status]) -> Status:
    """The worst of several verdicts (ok when there are none)."""
    for status in (Status.FAIL, Status.WARNING):
        if status in statuses:
            return status
    return Status.OK


@dataclass(frozen=True, slots=True)
class Setting:
    """One server the client would configure, in the client's own words."""

    role: str  # incoming | outgoing
    protocol: str
    host: str
    port: int
    security: str
    authentication: str
    username: str

    def __str__(self) -> str:
        return (f"{self.role} {self.protocol} {self.host}:{self.port} {self.security}"
                f" auth {self.authentication or '-'} user {self.username or '-'}")


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the client does (a request, a DNS question) and what came of it."""

    action: str
    outcome: str
    ok: bool
    fix: str = ""
    # A failure the user would meet even if a later step works: a certificate error
    # (a client shows it, or Outlook asks whether to go on) or a server that hangs.
    serious: bool = False

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'no'}: {self.action}: {self.outcome}"


@dataclass
class Verdict:
    """Where one client ends up: the URL that answered and its servers, or the failure."""

    client: str
    title: str
    status: Status = Status.FAIL
    source: str = ""
    settings: list[Setting] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    summary: str = ""
    fix: str = ""
    notes: list[str] = field(default_factory=list)

    def step(self, action: str, outcome: str, ok: bool = False, fix: str = "",
             serious: bool = False) -> Step:
        """Record a step and return it."""
        recorded = Step(action, outcome, ok, fix, serious)
        self.steps.append(recorded)
        return recorded

    def fail(self, summary: str, fix: str = "") -> Verdict:
        """End with a failure; without ``fix``, the last failed step's fix."""
        failed = [s for s in self.steps if not s.ok and s.fix]
        self.status, self.summary = Status.FAIL, summary
        self.fix = fix or (failed[0].fix if failed else "")
        return self

    def warn(self, summary: str, fix: str = "") -> Verdict:
        """End with a caveat and no configuration (an optional source that is absent)."""
        self.status, self.summary, self.fix = Status.WARNING, summary, fix
        return self

    def succeed(self, source: str, settings: list[Setting], summary: str,
                status: Status = Status.OK, fix: str = "") -> Verdict:
        """End with the configuration the client would use (a warning: with its fix)."""
        self.status, self.source, self.settings, self.summary = status, source, settings, summary
        if status is Status.WARNING:
            failed = [s for s in self.steps if not s.ok and s.fix]
            self.fix = fix or (failed[0].fix if failed else "")
        return self

    def fixes(self) -> list[str]:
        """Every distinct fix: the verdict's own first, then the failed steps' ones."""
        found = [self.fix] if self.fix else []
        for step in self.steps:
            if not step.ok and step.fix and step.fix not in found:
                found.append(step.fix)
        return found

    def to_json(self) -> dict[str, Any]:
        """The verdict for ``--format json``."""
        data = asdict(self)
        data["status"] = str(self.status)
        return data
