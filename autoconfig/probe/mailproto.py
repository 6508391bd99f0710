"""The first words of an IMAP, POP3 or SMTP session: greeting, capabilities, STARTTLS.

What a mail client reads before it logs in, and nothing more: the greeting, the
capability list (IMAP ``CAPABILITY``, RFC 9051 6.1.1; POP3 ``CAPA``, RFC 2449; SMTP
``EHLO``, RFC 5321 4.1.1.1), the STARTTLS upgrade (RFC 9051 6.2.1, RFC 2595 4,
RFC 3207) and the capabilities again over TLS, where a server that follows RFC 8314
offers its AUTH mechanisms. The session then ends politely (LOGOUT, QUIT); no AUTH,
LOGIN, USER or PASS command is ever sent.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from autoconfig.probe.deadline import Guard
from autoconfig.probe.transport import StepError, TimeoutStepError

MAX_LINE = 8192
MAX_LINES = 200  # a capability list is a few dozen lines
CLIENT_NAME = "autoconfig-probe.invalid"  # EHLO argument: the probe has no host name


class NotThisProtocol(StepError):
    """The port answers, but not as the protocol's server would."""


@dataclass
class Observed:
    """What the server showed: its greeting, STARTTLS, TLS, and the AUTH mechanisms."""

    greeting: str = ""
    starttls_offered: bool = False
    tls: ssl.SSLSocket | None = None
    mechanisms: list[str] = field(default_factory=list)  # upper case, after TLS if any


Upgrade = Callable[[socket.socket], ssl.SSLSocket]


class Conversation:
    """Lines in and out over one guarded socket, upgraded to TLS in place."""

    def __init__(self, sock: socket.socket, guard: Guard, where: str) -> None:
        self.sock, self.guard, self.where = sock, guard, where
        self.file = sock.makefile("rb")

    def send(self, line: str) -> None:
        """One command line (CRLF added)."""
        try:
            self.sock.sendall(line.encode("ascii") + b"\r\n")
        except OSError as error:
            raise self._broken(error) from None

    def line(self) -> str:
        """One line from the server, without its CRLF."""
        try:
            data = self.file.readline(MAX_LINE)
        except OSError as error:
            raise self._broken(error) from None
        if not data:
            raise self._broken(None)
        return data.decode("utf-8", "replace").rstrip("\r\n")

    def _broken(self, error: OSError | None) -> StepError:
        if self.guard.expired or isinstance(error, TimeoutError):
            return TimeoutStepError(
                f"{self.where}: no complete answer within"
                f" {self.guard.deadline - self.guard.started:.1f} s",
                "make the server answer faster (clients give up)")
        reason = f": {error}" if error else ""
        return StepError(f"{self.where} closed the connection{reason}",
                         "check the mail server's log")

    def upgrade(self, upgrade: Upgrade) -> ssl.SSLSocket:
        """Switch to TLS (after the server's go-ahead for STARTTLS)."""
        self.file.close()
        tls = upgrade(self.sock)
        self.sock, self.file = tls, tls.makefile("rb")
        return tls

    def close(self) -> None:
        """Close the line reader and the socket."""
        self.file.close()
        self.sock.close()


def _imap_tagged(conv: Conversation, tag: str) -> tuple[list[str], str]:
    """Untagged lines until the tagged completion of ``tag``; (lines, completion)."""
    lines: list[str] = []
    for _ in range(MAX_LINES):
        line = conv.line()
        if line.startswith(f"{tag} "):
            return lines, line[len(tag) + 1:]
        lines.append(line)
    raise NotThisProtocol(f"{conv.where}: no end to the answer to {tag}", "check the server")


def _imap_capabilities(conv: Conversation, tag: str) -> list[str]:
    conv.send(f"{tag} CAPABILITY")
    lines, _ = _imap_tagged(conv, tag)
    return [word.upper() for line in lines if line.upper().startswith("* CAPABILITY ")
            for word in line.split()[2:]]


def imap(conv: Conversation, starttls: bool, upgrade: Upgrade) -> Observed:
    """IMAP: greeting, CAPABILITY, STARTTLS, CAPABILITY, LOGOUT."""
    seen = Observed(greeting=conv.line())
    if not seen.greeting.upper().startswith(("* OK", "* PREAUTH")):
        raise NotThisProtocol(f"{conv.where}: not an IMAP greeting: {seen.greeting[:80]!r}",
                              "check which server listens on this port")
    capabilities = _imap_capabilities(conv, "p1")
    seen.starttls_offered = "STARTTLS" in capabilities
    if starttls:
        if not seen.starttls_offered:
            return seen
        conv.send("p2 STARTTLS")
        _, completion = _imap_tagged(conv, "p2")
        if not completion.upper().startswith("OK"):
            raise StepError(f"{conv.where}: STARTTLS refused: {completion[:80]}",
                            "enable TLS on the IMAP server")
        seen.tls = conv.upgrade(upgrade)
        capabilities = _imap_capabilities(conv, "p3")
    seen.mechanisms = [c.removeprefix("AUTH=") for c in capabilities if c.startswith("AUTH=")]
    conv.send("p9 LOGOUT")
    return seen


def _pop3_capabilities(conv: Conversation) -> list[str]:
    conv.send("CAPA")
    if not conv.line().startswith("+OK"):
        return []
    lines: list[str] = []
    for _ in range(MAX_LINES):
        line = conv.line()
        if line == ".":
            return lines
        lines.append(line.upper())
    raise NotThisProtocol(f"{conv.where}: no end to the CAPA list", "check the server")


def _sasl(capabilities: list[str]) -> list[str]:
    return [m for line in capabilities if line.startswith("SASL ") for m in line.split()[1:]]


def pop3(conv: Conversation, starttls: bool, upgrade: Upgrade) -> Observed:
    """POP3: greeting, CAPA, STLS, CAPA, QUIT."""
    seen = Observed(greeting=conv.line())
    if not seen.greeting.startswith("+OK"):
        raise NotThisProtocol(f"{conv.where}: not a POP3 greeting: {seen.greeting[:80]!r}",
                              "check which server listens on this port")
    capabilities = _pop3_capabilities(conv)
    seen.starttls_offered = "STLS" in capabilities
    if starttls:
        if not seen.starttls_offered:
            return seen
        conv.send("STLS")
        answer = conv.line()
        if not answer.startswith("+OK"):
            raise StepError(f"{conv.where}: STLS refused: {answer[:80]}",
                            "enable TLS on the POP3 server")
        seen.tls = conv.upgrade(upgrade)
        capabilities = _pop3_capabilities(conv)
    seen.mechanisms = _sasl(capabilities)
    conv.send("QUIT")
    return seen


def _smtp_reply(conv: Conversation) -> tuple[str, list[str]]:
    """One (multi-line) reply: its code and its texts."""
    texts = []
    for _ in range(MAX_LINES):
        line = conv.line()
        code, more, text = line[:3], line[3:4], line[4:]
        if not code.isdigit():
            raise NotThisProtocol(f"{conv.where}: not an SMTP reply: {line[:80]!r}",
                                  "check which server listens on this port")
        texts.append(text)
        if more != "-":
            return code, texts
    raise NotThisProtocol(f"{conv.where}: no end to the reply", "check the server")


def _ehlo(conv: Conversation) -> list[str]:
    conv.send(f"EHLO {CLIENT_NAME}")
    code, texts = _smtp_reply(conv)
    if code != "250":
        raise StepError(f"{conv.where}: EHLO answered {code} {texts[0][:80]}",
                        "check the mail server's log")
    return [text.upper() for text in texts[1:]]


def smtp(conv: Conversation, starttls: bool, upgrade: Upgrade) -> Observed:
    """SMTP submission: greeting, EHLO, STARTTLS, EHLO, QUIT."""
    code, texts = _smtp_reply(conv)
    seen = Observed(greeting=f"{code} {texts[0]}")
    if code != "220":
        raise StepError(f"{conv.where}: the greeting is {seen.greeting[:80]!r}, not 220",
                        "check the mail server's log")
    extensions = _ehlo(conv)
    seen.starttls_offered = "STARTTLS" in extensions
    if starttls:
        if not seen.starttls_offered:
            return seen
        conv.send("STARTTLS")
        code, texts = _smtp_reply(conv)
        if code != "220":
            raise StepError(f"{conv.where}: STARTTLS answered {code} {texts[0][:80]}",
                            "enable TLS on the SMTP server")
        seen.tls = conv.upgrade(upgrade)
        extensions = _ehlo(conv)
    seen.mechanisms = [m for line in extensions if line.startswith(("AUTH ", "AUTH="))
                       for m in line[5:].split()]
    conv.send("QUIT")
    return seen


DIALOGS: dict[str, Callable[[Conversation, bool, Upgrade], Observed]] = {
    "imap": imap, "pop3": pop3, "smtp": smtp,
}
