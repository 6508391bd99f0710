"""Frozen, typed records of a domain's mail settings: what every renderer reads.

These are built once per load from a validated domain file (``domainfile``)
and never change afterwards, so requests share them without locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autoconfig.address import EmailAddress


class Protocol(StrEnum):
    """Mail protocols a domain file can describe."""

    IMAP = "imap"
    POP3 = "pop3"
    SMTP = "smtp"


class Security(StrEnum):
    """Transport security: implicit TLS ("SSL" to clients), STARTTLS, or none."""

    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"


class Auth(StrEnum):
    """Authentication methods in our vocabulary; each client has its own table."""

    PASSWORD = "password"
    PASSWORD_ENCRYPTED = "password-encrypted"
    NTLM = "ntlm"
    GSSAPI = "gssapi"
    OAUTH2 = "oauth2"
    CLIENT_CERT = "client-cert"
    NONE = "none"


# Standard ports per protocol and security mode (RFC 8314 section 3, RFC 6409).
STANDARD_PORTS: dict[tuple[Protocol, Security], int] = {
    (Protocol.IMAP, Security.TLS): 993,
    (Protocol.IMAP, Security.STARTTLS): 143,
    (Protocol.IMAP, Security.NONE): 143,
    (Protocol.POP3, Security.TLS): 995,
    (Protocol.POP3, Security.STARTTLS): 110,
    (Protocol.POP3, Security.NONE): 110,
    (Protocol.SMTP, Security.TLS): 465,
    (Protocol.SMTP, Security.STARTTLS): 587,
    (Protocol.SMTP, Security.NONE): 587,
}

PLACEHOLDER_ADDRESS = "%EMAILADDRESS%"
PLACEHOLDER_LOCALPART = "%EMAILLOCALPART%"
PLACEHOLDER_DOMAIN = "%EMAILDOMAIN%"
USERNAME_PLACEHOLDERS = (PLACEHOLDER_ADDRESS, PLACEHOLDER_LOCALPART, PLACEHOLDER_DOMAIN)


def expand_placeholders(template: str, address: EmailAddress) -> str:
    """Replace the Thunderbird-style placeholders with parts of ``address``."""
    return (
        template.replace(PLACEHOLDER_ADDRESS, str(address))
        .replace(PLACEHOLDER_LOCALPART, address.local)
        .replace(PLACEHOLDER_DOMAIN, address.domain)
    )


@dataclass(frozen=True, slots=True)
class Pop3Options:
    """POP3 behaviour hints that Thunderbird reads from the ``pop3`` element."""

    leave_messages_on_server: bool | None = None
    days_to_leave: int | None = None
    download_on_biff: bool | None = None


@dataclass(frozen=True, slots=True)
class Server:
    """One incoming or outgoing server with every default already resolved."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    auth: tuple[Auth, ...]
    username: str | None  # None: no login (an outgoing server with auth none only)
    pop3: Pop3Options | None = None

    def host_for(self, address: EmailAddress) -> str:
        """The host name with ``%EMAILDOMAIN%`` filled in for this address."""
        return expand_placeholders(self.host, address)

    def username_for(self, address: EmailAddress) -> str | None:
        """The login name this address uses on this server (None: it logs in with none)."""
        if self.username is None:
            return None
        return expand_placeholders(self.username, address)

    @property
    def username_depends_on_address(self) -> bool:
        """True when the login name differs from user to user."""
        if self.username is None:
            return False
        return any(p in self.username for p in USERNAME_PLACEHOLDERS)

    @property
    def is_standard_port(self) -> bool:
        """Whether the port is the usual one for this protocol and security mode."""
        if self.protocol is Protocol.SMTP and self.security is not Security.TLS:
            return self.port in (587, 25)
        return STANDARD_PORTS[(self.protocol, self.security)] == self.port


@dataclass(frozen=True, slots=True)
class Image:
    """A provider's logo, read and checked at load, served by this server."""

    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OAuth2Settings:
    """A domain's OAuth2 authorization server, for public clients (no client secret).

    ``issuer`` is the RFC 8414 issuer identifier (an https URL); clients discover the
    endpoints from its metadata unless the URLs are given (draft-ietf-mailmaint-oauth-public).
    """

    issuer: str
    authorization_url: str | None = None
    token_url: str | None = None
    scopes: tuple[str, ...] = ()
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class DomainConfig:
    """Everything one domain file says, ready to render for any client."""

    source: str
    name: str
    short_name: str | None
    domains: tuple[str, ...]
    incoming: tuple[Server, ...]
    outgoing: tuple[Server, ...]
    webmail: str | None = None
    help_url: str | None = None
    caldav: str | None = None
    carddav: str | None = None
    mx: tuple[str, ...] = ()
    oauth2: OAuth2Settings | None = None
    # The settings page on autoconfig.<domain>: the provider's logo and accent colour.
    logo: Image | None = None
    accent_color: str | None = None

    @property
    def id(self) -> str:
        """The provider id clients see: the first domain of the file."""
        return self.domains[0]

    def incoming_of(self, protocol: Protocol) -> tuple[Server, ...]:
        """The incoming servers speaking ``protocol``, in the file's order."""
        return tuple(s for s in self.incoming if s.protocol is protocol)
