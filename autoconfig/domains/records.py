"""Frozen, typed records of a domain's mail settings: what every renderer reads.

These are built once per load from a validated domain file (``fileformat``)
and never change afterwards, so requests share them without locks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
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


_PLACEHOLDERS = re.compile("|".join(re.escape(p) for p in USERNAME_PLACEHOLDERS))


def _as_is(text: str) -> str:
    return text


def expand_placeholders(
    template: str, address: EmailAddress, encode: Callable[[str], str] = _as_is
) -> str:
    """Replace the Thunderbird-style placeholders with parts of ``address``, each passed
    through ``encode`` (an LDAP filter's escaping, say).

    One pass over the template: what a placeholder is replaced with is never read again,
    so an address that contains a placeholder's text (``%EMAILDOMAIN%@example.org``)
    stays that text instead of being expanded a second time.
    """
    if "%" not in template:  # a literal login, a host without %EMAILDOMAIN%
        return template
    parts = {
        PLACEHOLDER_ADDRESS: str(address),
        PLACEHOLDER_LOCALPART: address.local,
        PLACEHOLDER_DOMAIN: address.domain,
    }
    whole = parts.get(template)  # the usual login template is one placeholder alone
    if whole is not None:
        return encode(whole)
    return _PLACEHOLDERS.sub(lambda match: encode(parts[match.group()]), template)


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
    # True when ``username`` is one user's login name from the directory: text to send
    # as it is, even if it happens to contain a placeholder's letters.
    username_is_literal: bool = False

    def host_for(self, address: EmailAddress) -> str:
        """The host name with ``%EMAILDOMAIN%`` filled in for this address."""
        return expand_placeholders(self.host, address)

    def username_for(self, address: EmailAddress) -> str | None:
        """The login name this address uses on this server (None: it logs in with none)."""
        if self.username is None or self.username_is_literal:
            return self.username
        return expand_placeholders(self.username, address)

    @property
    def username_depends_on_address(self) -> bool:
        """True when the login name differs from user to user."""
        if self.username is None or self.username_is_literal:
            return False
        return any(p in self.username for p in USERNAME_PLACEHOLDERS)

    @property
    def is_standard_port(self) -> bool:
        """Whether the port is the usual one for this protocol and security mode."""
        if self.protocol is Protocol.SMTP and self.security is not Security.TLS:
            return self.port in (587, 25)
        return STANDARD_PORTS[(self.protocol, self.security)] == self.port


class Reveal(StrEnum):
    """What answers to clients may show of what the directory holds (docs/directory.md).

    Anyone may ask for any address, so whatever differs between the answer for a known
    address and for an unknown one tells the asker that the mailbox exists.
    """

    LOGIN_AND_NAME = "login-and-name"  # the login name and the person's name
    LOGIN = "login"  # the login name only, where it differs from the file's template
    NOTHING = "nothing"  # the template for everyone: the directory is not asked


@dataclass(frozen=True, slots=True)
class DirectorySearch:
    """Where a domain's users are in the directory (LDAP), and which attributes to read.

    ``filter`` holds the placeholders of ``USERNAME_PLACEHOLDERS``; each is replaced by
    that part of the address, escaped as RFC 4515 section 3 requires.
    """

    base: str
    filter: str
    login_attribute: str
    name_attribute: str | None = None
    reveal: Reveal = Reveal.LOGIN_AND_NAME


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
    ews: str | None = None  # Exchange Web Services URL
    owa: str | None = None  # Outlook on the web (groupware web app) URL
    activesync: str | None = None  # Exchange ActiveSync URL
    jmap: str | None = None  # JMAP session URL (RFC 8620 section 2)
    mx: tuple[str, ...] = ()
    directory: DirectorySearch | None = None  # per-user login names from LDAP
    oauth2: OAuth2Settings | None = None
    # The settings page on autoconfig.<domain>: the provider's logo and accent colour.
    logo: Image | None = None
    accent_color: str | None = None

    @property
    def id(self) -> str:
        """The provider id clients see: the first domain of the file."""
        return self.domains[0]

    @property
    def login_template(self) -> str:
        """The login name of the groupware endpoints (EWS, ActiveSync): the first incoming
        server's, since groupware servers such as Gromox and SOGo share one login."""
        return self.incoming[0].username or PLACEHOLDER_ADDRESS

    def with_login(self, login: str, address: EmailAddress | None = None) -> DomainConfig:
        """This config for a user whose login name the directory gave: every server that
        takes a login name gets ``login`` as literal text. Given the user's ``address``,
        servers whose template gives that very name already keep the template, so the
        answer is byte for byte the one an address the directory does not know gets."""

        def personal(server: Server) -> Server:
            if server.username is None:
                return server
            if address is not None and server.username_for(address) == login:
                return server
            return replace(server, username=login, username_is_literal=True)

        incoming = tuple(personal(s) for s in self.incoming)
        outgoing = tuple(personal(s) for s in self.outgoing)
        if incoming == self.incoming and outgoing == self.outgoing:
            return self  # the domain's own record: its prepared answers serve this user
        return replace(self, incoming=incoming, outgoing=outgoing)

    def incoming_of(self, protocol: Protocol) -> tuple[Server, ...]:
        """The incoming servers speaking ``protocol``, in the file's order."""
        return tuple(s for s in self.incoming if s.protocol is protocol)
