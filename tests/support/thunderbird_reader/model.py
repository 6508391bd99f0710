"""What the reader returns: Thunderbird's constant names, its messages, the results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from tests.support.thunderbird_reader.jsvalues import js_str

SOCKET_PLAIN: Final = "plain"
SOCKET_STARTTLS: Final = "alwaysSTARTTLS"
SOCKET_SSL: Final = "SSL"
AUTH_NONE: Final = "none"
AUTH_CLEARTEXT: Final = "passwordCleartext"
AUTH_ENCRYPTED: Final = "passwordEncrypted"
AUTH_OAUTH2: Final = "OAuth2"
AUTH_SECURE: Final = "secure"  # Autodiscover SPA=on: NTLM or Kerberos

XML_SOCKET_TYPES: Final[Mapping[str, str]] = {
    "plain": SOCKET_PLAIN,
    "SSL": SOCKET_SSL,
    "STARTTLS": SOCKET_STARTTLS,
}
# Incoming: no "none", "client-IP-address", "smtp-after-pop" (nor "TLS-client-cert" anywhere).
XML_INCOMING_AUTH: Final[Mapping[str, str]] = {
    "password-cleartext": AUTH_CLEARTEXT,
    "plain": AUTH_CLEARTEXT,
    "password-encrypted": AUTH_ENCRYPTED,
    "secure": AUTH_ENCRYPTED,
    "GSSAPI": "GSSAPI",
    "NTLM": "NTLM",
    "OAuth2": AUTH_OAUTH2,
}
XML_OUTGOING_AUTH: Final[Mapping[str, str]] = dict.fromkeys(
    ("none", "client-IP-address", "smtp-after-pop"), AUTH_NONE
) | dict(XML_INCOMING_AUTH)

MSG_NO_EMAIL_PROVIDER: Final = (
    "The config file XML does not contain an email account configuration."
)
MSG_OUTGOING_NOT_SMTP: Final = "The outgoing server must be of type SMTP"
MSG_NO_AUTODISCOVER: Final = "The Exchange AutoDiscover XML is invalid."
MSG_NOT_ALLOWED: Final = "Supplied value not in allowed list"
MSG_HOSTNAME: Final = (
    "Hostname is empty or contains forbidden characters. "
    "Only letters, numbers, - and . are allowed."
)


class ThunderbirdRejects(Exception):
    """Thunderbird would not use this document or server; ``reason`` is its own message."""

    def __init__(self, reason: str, bad_value: object = None) -> None:
        self.reason = reason
        extra = "" if bad_value is None else f" (bad value: {js_str(bad_value)!r})"
        super().__init__(reason + extra)


class AutodiscoverErrorResponse(Exception):
    """A POX ``Error`` response (Thunderbird itself just finds no settings in it)."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"Autodiscover error {code}: {message}")


@dataclass(frozen=True)
class Pop3Options:
    """POP3 settings as Thunderbird applies them (its defaults where not given)."""

    leave_messages_on_server: bool = True
    days_to_leave_messages_on_server: int = 14
    download_on_biff: bool = True


@dataclass(frozen=True)
class Server:
    """A server Thunderbird accepted. ``auth`` is the method it uses; ``auth_alternatives``
    is every accepted method in document order, ``auth`` first (Thunderbird keeps one)."""

    type: str
    hostname: str
    port: int | None  # None: not given (Thunderbird 150+ allows that for URL-based types)
    socket_type: str
    auth: str
    auth_alternatives: tuple[str, ...]
    username: str | None
    password: str | None = None
    pop3_options: Pop3Options | None = None
    use_global_preferred_server: bool = False
    url: str | None = None  # Thunderbird 150+: <url>
    exchange_url: str | None = None  # EWS endpoint (type ews, or EXCH/EXHTTP EwsUrl in POX)
    owa_url: str | None = None  # Outlook on the web (POX WEB OWAUrl)


@dataclass(frozen=True)
class SkippedServer:
    direction: str  # "incoming" or "outgoing"
    index: int  # among the server elements (POX: Protocol elements), from 0
    reason: str


@dataclass(frozen=True)
class ClientConfig:
    id: str
    domains: tuple[str, ...]
    display_name: str
    incoming: tuple[Server, ...]  # first = Thunderbird's choice, then the alternatives
    outgoing: tuple[Server, ...]
    skipped: tuple[SkippedServer, ...] = ()


@dataclass(frozen=True)
class AutodiscoverResult:
    """``action``: ``settings``; ``redirectAddr`` (Thunderbird restarts discovery for the
    address in ``redirect``); ``redirectUrl`` (Thunderbird does not follow it: it fails)."""

    action: str
    incoming: tuple[Server, ...] = ()
    outgoing: tuple[Server, ...] = ()
    redirect: str | None = None
    skipped: tuple[SkippedServer, ...] = ()
    other_types: tuple[str, ...] = ()  # Protocol Types not modelled (EXCH, EXHTTP, WEB, …)

    @property
    def thunderbird_follows_redirect(self) -> bool:
        return self.action == "redirectAddr"
