"""Apple configuration profiles (``.mobileconfig``): one mail account, plus CalDAV/CardDAV,
or one Exchange ActiveSync account.

Keys, types and allowed values follow Apple's payload schema (apple/device-management
``mdm/profiles``, summarised in docs/apple.md: ``TopLevel``, ``CommonPayloadKeys``,
``com.apple.mail.managed``, ``com.apple.caldav.account``, ``com.apple.carddav.account``,
``com.apple.eas.account``).
Built with ``plistlib``, never from strings; identifiers are derived from the address,
so the same input gives the same bytes and a second install replaces the first
(docs/apple.md#identity).
"""

from __future__ import annotations

import plistlib
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from autoconfig.address import AddressError, EmailAddress, normalize_domain
from autoconfig.domains.records import (
    Auth,
    DomainConfig,
    Protocol,
    Security,
    Server,
    expand_placeholders,
)
from autoconfig.phrases import Phrase, Translator, as_phrase, english

# EmailAccountType per incoming protocol (docs/apple.md#mail-payload).
ACCOUNT_TYPE: dict[Protocol, str] = {
    Protocol.IMAP: "EmailTypeIMAP",
    Protocol.POP3: "EmailTypePOP",
}

# Incoming/OutgoingMailServerAuthentication per auth method (docs/apple.md#authentication).
# Apple has no word for oauth2, gssapi or client-cert: the profile uses the first method of the
# server's list that Apple can express, and when there is none, EmailAuthPassword
# (the device asks for a password on install). `autoconfig check` warns about the latter.
APPLE_AUTH: dict[Auth, str] = {
    Auth.PASSWORD: "EmailAuthPassword",
    Auth.PASSWORD_ENCRYPTED: "EmailAuthCRAMMD5",
    Auth.NTLM: "EmailAuthNTLM",
    Auth.NONE: "EmailAuthNone",
}
APPLE_AUTH_FALLBACK = "EmailAuthPassword"

# UseSSL means "this connection must be TLS-protected"; Apple picks implicit TLS or
# STARTTLS by port [observed], so both of our TLS modes are true (docs/apple.md#tls).
USE_SSL: dict[Security, bool] = {
    Security.TLS: True,
    Security.STARTTLS: True,
    Security.NONE: False,
}

# The payload kinds that get an identity of their own (their identifier suffix).
KIND_PROFILE = "profile"
KIND_MAIL = "mail"
KIND_CALDAV = "caldav"
KIND_CARDDAV = "carddav"
KIND_EAS = "eas"

MAX_ACCOUNT_NAME_LENGTH = 100
_REVERSE_DNS = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class ProfileRequestError(ValueError):
    """The options ask for something this domain or Apple cannot give."""

    def __init__(self, message: str | Phrase) -> None:
        self.phrase = as_phrase(message)  # the settings page shows it in its language
        super().__init__(str(self.phrase))


@dataclass(frozen=True, slots=True)
class ProfileOptions:
    """What varies per download besides the address.

    ``prefix`` is the reverse-DNS prefix of every PayloadIdentifier (a process setting);
    ``protocol`` picks the incoming server (None: the first one of the domain file);
    ``account_name`` becomes EmailAccountName, the sender's display name;
    ``activesync`` asks for the ActiveSync account (iOS and visionOS only: Apple's
    schema has no macOS support for com.apple.eas.account, so it is never mixed into
    the profile everyone downloads);
    ``translate`` puts the texts the device shows into the visitor's language.
    """

    prefix: str
    protocol: Protocol | None = None
    account_name: str | None = None
    activesync: bool = False  # an Exchange ActiveSync account instead of IMAP/POP3
    translate: Translator = english


def is_reverse_dns(text: str) -> bool:
    """Whether ``text`` can prefix a PayloadIdentifier (``org.example.autoconfig``)."""
    return _REVERSE_DNS.fullmatch(text) is not None


def check_account_name(text: str) -> str:
    """A display name safe to put in a plist and show on a page, or ProfileRequestError.

    plistlib cannot encode control characters, and a name is one line of text: refuse
    them, line and paragraph separators, markup and absurd lengths.
    """
    if len(text) > MAX_ACCOUNT_NAME_LENGTH:
        raise ProfileRequestError(Phrase(
            "the name is longer than %(count)d characters", count=MAX_ACCOUNT_NAME_LENGTH
        ))
    if not text.isprintable():
        raise ProfileRequestError(Phrase("the name contains control characters or line breaks"))
    if "<" in text or ">" in text:
        raise ProfileRequestError(Phrase("the name contains '<' or '>'"))
    if "\ufffd" in text:
        raise ProfileRequestError(Phrase("the name is not valid UTF-8"))
    return text


def apple_auth(methods: tuple[Auth, ...]) -> tuple[str, bool]:
    """Apple's word for a server's auth list, and whether Apple expresses it exactly."""
    for method in methods:
        if method in APPLE_AUTH:
            return APPLE_AUTH[method], True
    return APPLE_AUTH_FALLBACK, False


def incoming_server(config: DomainConfig, protocol: Protocol | None) -> Server:
    """The incoming server the profile configures: the first one of ``protocol``."""
    if protocol is None:
        return config.incoming[0]
    if protocol not in ACCOUNT_TYPE:
        raise ProfileRequestError(f"{protocol} is not an incoming protocol")
    servers = config.incoming_of(protocol)
    if not servers:
        raise ProfileRequestError(Phrase(
            "%(provider)s offers no %(protocol)s server",
            provider=config.name, protocol=protocol.value.upper(),
        ))
    return servers[0]


def payload_uuid(prefix: str, address: EmailAddress, kind: str) -> str:
    """The stable UUID of one payload: a name-based (v5) UUID of prefix, kind and address."""
    name = f"{prefix}:{kind}:{str(address).lower()}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name)).upper()


def _identity(prefix: str, address: EmailAddress, kind: str) -> dict[str, Any]:
    profile_id = f"{prefix}.{payload_uuid(prefix, address, KIND_PROFILE)}"
    identifier = profile_id if kind == KIND_PROFILE else f"{profile_id}.{kind}"
    return {
        "PayloadIdentifier": identifier,
        "PayloadUUID": payload_uuid(prefix, address, kind),
        "PayloadVersion": 1,
    }


def _server_keys(side: str, server: Server, address: EmailAddress) -> dict[str, Any]:
    auth, _ = apple_auth(server.auth)
    keys: dict[str, Any] = {
        f"{side}MailServerHostName": server.host_for(address),
        f"{side}MailServerPortNumber": server.port,
        f"{side}MailServerUseSSL": USE_SSL[server.security],
        f"{side}MailServerAuthentication": auth,
    }
    username = server.username_for(address)
    if auth != APPLE_AUTH[Auth.NONE] and username is not None:
        keys[f"{side}MailServerUsername"] = username
    return keys


def _mail_payload(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> dict[str, Any]:
    incoming = incoming_server(config, options.protocol)
    outgoing = config.outgoing[0]
    payload: dict[str, Any] = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadDisplayName": f"{config.name} ({incoming.protocol.value.upper()})",
        "PayloadDescription": Phrase(
            "The mail account %(address)s at %(provider)s.",
            address=str(address), provider=config.name,
        ).translated(options.translate),
        **_identity(options.prefix, address, KIND_MAIL),
        "EmailAccountType": ACCOUNT_TYPE[incoming.protocol],
        "EmailAccountDescription": config.name,
        "EmailAddress": str(address),
        **_server_keys("Incoming", incoming, address),
        **_server_keys("Outgoing", outgoing, address),
    }
    if options.account_name:
        payload["EmailAccountName"] = options.account_name
    both_need_passwords = "IncomingMailServerUsername" in payload and (
        "OutgoingMailServerUsername" in payload
    )
    if both_need_passwords:
        payload["OutgoingPasswordSameAsIncomingPassword"] = (
            payload["IncomingMailServerUsername"] == payload["OutgoingMailServerUsername"]
        )
    return payload


def _host(hostname: str) -> str:
    try:
        return normalize_domain(hostname)
    except AddressError:
        return hostname  # an IP literal: leave it as written


@dataclass(frozen=True, slots=True)
class _DavKind:
    kind: str  # identity suffix, and the payload type com.apple.<kind>.account
    key: str  # key prefix: CalDAV / CardDAV (docs/apple.md#caldav-and-carddav)
    display: Phrase  # the texts people see, with %(provider)s and %(address)s
    description: Phrase
    account: Phrase


_CALDAV = _DavKind(
    KIND_CALDAV, "CalDAV",
    Phrase("%(provider)s (calendars)"),
    Phrase("The calendars of %(address)s at %(provider)s."),
    Phrase("%(provider)s calendars"),
)
_CARDDAV = _DavKind(
    KIND_CARDDAV, "CardDAV",
    Phrase("%(provider)s (contacts)"),
    Phrase("The contacts of %(address)s at %(provider)s."),
    Phrase("%(provider)s contacts"),
)


def _dav_payload(
    dav: _DavKind, url: str, config: DomainConfig, address: EmailAddress,
    options: ProfileOptions,
) -> dict[str, Any]:
    """A CalDAV/CardDAV account: the URL split into host, port, TLS and principal URL."""
    parts = urlsplit(url)
    use_ssl = parts.scheme == "https"
    key = dav.key

    def text(phrase: Phrase) -> str:
        filled = Phrase(phrase.msgid, provider=config.name, address=str(address))
        return filled.translated(options.translate)

    payload: dict[str, Any] = {
        "PayloadType": f"com.apple.{dav.kind}.account",
        "PayloadDisplayName": text(dav.display),
        "PayloadDescription": text(dav.description),
        **_identity(options.prefix, address, dav.kind),
        f"{key}AccountDescription": text(dav.account),
        f"{key}HostName": _host(parts.hostname or ""),
        # Always an integer, never empty (docs/apple.md#no-empty-values).
        f"{key}Port": parts.port or (443 if use_ssl else 80),
        f"{key}UseSSL": use_ssl,
        f"{key}Username": str(address),
    }
    if parts.path not in ("", "/") or parts.query:
        payload[f"{key}PrincipalURL"] = url
    return payload


def _eas_payload(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> dict[str, Any]:
    """An Exchange ActiveSync account (com.apple.eas.account.yaml): mail, contacts and
    calendars in one. iOS takes only the host and always uses the path
    /Microsoft-Server-ActiveSync (``autoconfig check`` warns about other paths)."""
    url = config.activesync or ""
    parts = urlsplit(url)
    use_ssl = parts.scheme == "https"
    host = _host(parts.hostname or "")
    if parts.port is not None and parts.port != (443 if use_ssl else 80):
        host = f"{host}:{parts.port}"
    return {
        "PayloadType": "com.apple.eas.account",
        "PayloadDisplayName": f"{config.name} (Exchange ActiveSync)",
        "PayloadDescription": Phrase(
            "The Exchange ActiveSync account %(address)s at %(provider)s.",
            address=str(address), provider=config.name,
        ).translated(options.translate),
        **_identity(options.prefix, address, KIND_EAS),
        "EmailAddress": str(address),
        "Host": host,
        "SSL": use_ssl,
        "UserName": expand_placeholders(config.login_template, address),
    }


def build_profile(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> dict[str, Any]:
    """The profile as a plist dictionary (what ``render_mobileconfig`` serialises)."""
    if options.activesync:
        if config.activesync is None:
            raise ProfileRequestError(Phrase(
                "%(provider)s offers no Exchange ActiveSync server", provider=config.name
            ))
        content = [_eas_payload(config, address, options)]
    else:
        mail = _mail_payload(config, address, options)
        content = [mail, *_dav_payloads(config, address, options)]
    return {
        "PayloadType": "Configuration",
        "PayloadDisplayName": config.name,
        "PayloadDescription": Phrase(
            "Sets up %(address)s with the settings of %(provider)s.",
            address=str(address), provider=config.name,
        ).translated(options.translate),
        "PayloadOrganization": config.name,
        "PayloadScope": "User",
        **_identity(options.prefix, address, KIND_PROFILE),
        "PayloadContent": content,
    }


def _dav_payloads(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> list[dict[str, Any]]:
    content = []
    if config.caldav:
        content.append(_dav_payload(_CALDAV, config.caldav, config, address, options))
    if config.carddav:
        content.append(_dav_payload(_CARDDAV, config.carddav, config, address, options))
    return content


def render_mobileconfig(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> bytes:
    """The unsigned XML plist; raises ProfileRequestError for an impossible option."""
    if not is_reverse_dns(options.prefix):
        raise ProfileRequestError(f"profile prefix {options.prefix!r} is not reverse-DNS")
    if options.account_name is not None:
        check_account_name(options.account_name)
    return plistlib.dumps(build_profile(config, address, options), fmt=plistlib.FMT_XML)
