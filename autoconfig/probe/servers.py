"""The mail servers the clients would configure: do they answer as the answer says?

For every IMAP, POP3 and SMTP server in a client's settings the probe connects to
the advertised port and checks the advertised security: a TLS handshake first for
implicit TLS (RFC 8314), STARTTLS offered and working for ``starttls``; the
certificate valid for the host name (as a client checks it) and not expiring within
``EXPIRY_MARGIN``; and the AUTH mechanisms offered after TLS against what the client
would use. Each server is checked once, whichever clients use it; then each client's
verdict takes in its servers' results, since a client whose server refuses it does
not end up with a working account.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from autoconfig.probe.deadline import guarded
from autoconfig.probe.mailproto import DIALOGS, Conversation, Observed
from autoconfig.probe.result import Setting, Status, Verdict
from autoconfig.probe.transport import Session, StepError, TimeLimitError

EXPIRY_MARGIN = timedelta(days=14)
TIMEOUT = 10.0  # per server: a greeting can take seconds (postscreen, DNS checks)
IMPLICIT_PORTS = (993, 995, 465)
# A client's authentication word -> (what it needs, the SASL mechanisms that give it).
_PASSWORD = ("PLAIN or LOGIN", ("PLAIN", "LOGIN"))
_ENCRYPTED = ("CRAM-MD5 or SCRAM", ("CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
                                    "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"))
_OAUTH = ("XOAUTH2 or OAUTHBEARER", ("XOAUTH2", "OAUTHBEARER"))
NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "password-cleartext": _PASSWORD, "plain": _PASSWORD, "password": _PASSWORD,
    "password or oauth-public": _PASSWORD, "emailauthpassword": _PASSWORD,
    "password-encrypted": _ENCRYPTED, "secure": _ENCRYPTED, "emailauthcrammd5": _ENCRYPTED,
    "oauth2": _OAUTH, "spa (ntlm)": ("NTLM", ("NTLM",)), "emailauthntlm": ("NTLM", ("NTLM",)),
}


@dataclass(frozen=True, slots=True)
class Target:
    """One server as advertised: protocol, host, port and how TLS is reached."""

    protocol: str
    host: str
    port: int
    mode: str  # tls | starttls | plain

    def __str__(self) -> str:
        return f"{self.protocol} {self.host}:{self.port} {self.mode}"


@dataclass
class ServerCheck:
    """What one server showed, and what a client meets there."""

    target: Target
    status: Status = Status.FAIL
    outcome: str = ""
    fix: str = ""
    mechanisms: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The check for ``--format json``."""
        return {"protocol": self.target.protocol, "host": self.target.host,
                "port": self.target.port, "security": self.target.mode,
                "status": str(self.status), "outcome": self.outcome, "fix": self.fix,
                "mechanisms": self.mechanisms, "clients": self.clients}


def target_of(setting: Setting) -> Target | None:
    """The server a setting names, if it is IMAP, POP3 or SMTP."""
    protocol = setting.protocol.lower()
    if protocol not in DIALOGS or not setting.host or not setting.port:
        return None
    security = setting.security.lower()
    if security in ("ssl", "tls"):
        mode = "tls"
    elif security in ("plain", "none"):
        mode = "plain"
    elif security == "starttls":
        mode = "starttls"
    else:  # Delta Chat's "automatic", Outlook's "auto": by port, as they try first
        mode = "tls" if setting.port in IMPLICIT_PORTS else "starttls"
    return Target(protocol, setting.host.lower().rstrip("."), setting.port, mode)


def _certificate_outcome(check: ServerCheck, tls: ssl.SSLSocket) -> str:
    """``certificate valid until …``; a warning when it ends within the margin."""
    peer = tls.getpeercert() or {}
    not_after = peer.get("notAfter")
    if not isinstance(not_after, str):
        return "certificate checked"
    ends = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    if ends - datetime.now(UTC) < EXPIRY_MARGIN:
        check.status = Status.WARNING
        check.fix = f"renew the certificate of {check.target.host} (clients refuse it once" \
                    " it has expired)"
        return f"the certificate expires on {ends:%Y-%m-%d %H:%M} UTC, within 14 days"
    return f"certificate valid until {ends:%Y-%m-%d}"


def _talk(session: Session, target: Target, check: ServerCheck) -> Observed | None:
    """Connect, TLS as advertised, greeting and capabilities; a failure: None."""
    where = f"{target.host}:{target.port}"
    service = f"{target.protocol.upper()} server"
    handshake_fix = (f"make port {target.port} of {target.host} speak TLS from the first byte"
                     " (RFC 8314), or correct port and security in the domain file")

    def names() -> list[str]:  # a second connection; the STARTTLS dialog is not redone
        return session.certificate_names(target.host, target.port, service)

    def upgrade(sock: socket.socket) -> ssl.SSLSocket:
        return session.tls(sock, target.host, guard, handshake_fix,
                           names if target.mode == "tls" else None)

    with guarded(time.monotonic() + session.remaining(TIMEOUT)) as guard:
        sock = session.connect(target.host, target.port, guard, service)
        implicit = upgrade(sock) if target.mode == "tls" else None
        conversation = Conversation(implicit or sock, guard, where)
        try:
            seen = DIALOGS[target.protocol](conversation, target.mode == "starttls", upgrade)
            seen.tls = implicit or seen.tls
            if seen.tls is not None:
                check.outcome = _certificate_outcome(check, seen.tls)
        finally:
            conversation.close()
    return seen


def check_server(session: Session, target: Target) -> ServerCheck:
    """Everything a client meets at ``target`` before it would log in."""
    check = ServerCheck(target, Status.OK)
    try:
        seen = _talk(session, target, check)
    except TimeLimitError:
        raise
    except StepError as error:
        check.status, check.outcome, check.fix = Status.FAIL, error.message, error.fix
        return check
    assert seen is not None  # noqa: S101 - _talk returns or raises
    check.mechanisms = seen.mechanisms
    if target.mode == "starttls" and not seen.starttls_offered:
        check.status = Status.FAIL
        check.outcome = ("STARTTLS not offered — the client would refuse or send the"
                         " password in clear")
        check.fix = (f"enable STARTTLS on the {target.protocol.upper()} server with a"
                     f" certificate for {target.host}")
        return check
    tls = "TLS" if target.mode == "tls" else "STARTTLS" if target.mode == "starttls" else "no TLS"
    auth = f"AUTH {' '.join(seen.mechanisms)}" if seen.mechanisms else "no AUTH offered"
    after = " after TLS" if target.mode != "plain" else ""
    check.outcome = f"{tls}, {check.outcome or 'no certificate'}, {auth}{after}"
    return check


def judge_client(verdict: Verdict, checks: dict[Target, ServerCheck]) -> None:
    """Fold the servers a client would use into its verdict: the worst one leads."""
    if verdict.status is Status.FAIL:
        return
    problems: list[tuple[Status, str, str]] = []
    for setting in verdict.settings:
        target = target_of(setting)
        check = checks.get(target) if target else None
        if check is None:
            continue
        action = f"server {check.target}"
        problem = _problem(setting, check)
        if problem is None:
            verdict.step(action, check.outcome, ok=True)
            continue
        status, outcome, fix = problem
        verdict.step(action, outcome, fix=fix)
        where = f"{check.target.host}:{check.target.port}"
        problems.append((status, f"{where}: {outcome}", fix))
    if not problems:
        return
    problems.sort(key=lambda p: p[0] is not Status.FAIL)  # failures first, stable
    status, first, fix = problems[0]
    more = f" (and {len(problems) - 1} more server problems below)" if len(problems) > 1 else ""
    verdict.summary += f"; but {first}{more}"
    if status is Status.FAIL:
        verdict.status, verdict.fix = Status.FAIL, fix
    else:
        verdict.status, verdict.fix = Status.WARNING, verdict.fix or fix


def _problem(setting: Setting, check: ServerCheck) -> tuple[Status, str, str] | None:
    """What is wrong for this client at this server (None: nothing)."""
    if check.status is not Status.OK:
        return check.status, check.outcome, check.fix
    needed = NEEDS.get(setting.authentication.lower())
    if needed is None:
        return None
    label, mechanisms = needed
    if any(m in check.mechanisms for m in mechanisms):
        return None
    offered = " ".join(check.mechanisms) or "none"
    return (Status.FAIL,
            f"offers AUTH {offered}, not {label}, which the client would use",
            f"enable {label} on the {check.target.protocol.upper()} server, or make the"
            " domain file's `auth` say what the server offers")


def check_servers(session: Session, verdicts: list[Verdict]) -> list[ServerCheck]:
    """Check every server of every configured client once; fold the results in."""
    checks: dict[Target, ServerCheck] = {}
    for verdict in verdicts:
        if verdict.status is Status.FAIL:
            continue
        for setting in verdict.settings:
            target = target_of(setting)
            if target is None:
                continue
            if target not in checks:
                try:
                    checks[target] = check_server(session, target)
                except TimeLimitError as error:
                    checks[target] = ServerCheck(target, Status.FAIL, error.message, error.fix)
            if verdict.title not in checks[target].clients:
                checks[target].clients.append(verdict.title)
    for verdict in verdicts:
        judge_client(verdict, checks)
    return list(checks.values())


def server_lines(checks: list[ServerCheck]) -> list[str]:
    """The text report's block: one line per server, its fix, the clients using it."""
    if not checks:
        return []
    lines = ["Mail servers (greeting and capabilities only; the probe never logs in):"]
    for check in checks:
        lines.append(f"  {check.target}: {check.status}: {check.outcome}")
        if check.fix:
            lines.append(f"    fix: {check.fix}")
        lines.append(f"    used by: {', '.join(check.clients)}")
    return lines
