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

import hashlib
import plistlib
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from autoconfig.address import AddressError, EmailAddress, is_reverse_dns, normalize_domain
from autoconfig.domains.records import (
    Auth,
    DomainConfig,
    Protocol,
    Security,
    Server,
    expand_placeholders,
)
from autoconfig.phrases import Phrase, Translator, as_phrase, english
from autoconfig.render.prepared import ByRecord, Slotted, escape_text, marker

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
        raise ProfileRequestError(
            Phrase("the name contains a line break or an invisible character")
        )
    if "<" in text or ">" in text:
        raise ProfileRequestError(Phrase("the name contains '<' or '>'"))
    if "\ufffd" in text:
        raise ProfileRequestError(Phrase("the name contains characters that could not be read"))
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
    """The stable UUID of one payload: a name-based (v5) UUID of prefix, kind and address,
    in upper case. The RFC 9562 section 5.5 steps written out (SHA-1, then version and
    variant bits): ``uuid.uuid5`` builds a UUID object and an int on the way, twice the
    time, and every profile request takes four of these."""
    name = f"{prefix}:{kind}:{str(address).lower()}"
    data = _URL_NAMESPACE + name.encode("utf-8")
    digest = bytearray(hashlib.sha1(data, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC's variant
    text = digest.hex().upper()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


# The per-user values of a profile (``User.values``), by name.
ADDRESS = "address"
INCOMING_HOST, INCOMING_USERNAME = "incoming-host", "incoming-username"
OUTGOING_HOST, OUTGOING_USERNAME = "outgoing-host", "outgoing-username"
EAS_USERNAME = "eas-username"


def _uuid_slot(kind: str) -> str:
    return f"uuid-{kind}"


@dataclass(frozen=True, slots=True)
class User:
    """Every value of a profile that depends on the address, by name (None: absent),
    and the one choice that does: whether both servers take the same password.

    A profile is built from these alone, so the values can be one user's or markers
    (``autoconfig.render.prepared``) that each user's values replace.
    """

    values: dict[str, str | None]
    same_password: bool

    def __getitem__(self, name: str) -> str | None:
        return self.values[name]

    def text(self, name: str) -> str:
        """A value that is always there."""
        value = self.values[name]
        if value is None:
            raise KeyError(name)
        return value


def _kinds(config: DomainConfig, options: ProfileOptions) -> tuple[str, ...]:
    """The payloads of this profile, the profile itself first."""
    if options.activesync:
        return (KIND_PROFILE, KIND_EAS)
    dav = ((KIND_CALDAV,) if config.caldav else ()) + ((KIND_CARDDAV,) if config.carddav else ())
    return (KIND_PROFILE, KIND_MAIL, *dav)


def user_values(config: DomainConfig, address: EmailAddress, options: ProfileOptions) -> User:
    """What ``address`` puts into its profile (raises ProfileRequestError as the profile
    would, for a protocol the domain does not offer)."""
    values: dict[str, str | None] = {ADDRESS: str(address)}
    values.update(
        (_uuid_slot(kind), payload_uuid(options.prefix, address, kind))
        for kind in _kinds(config, options)
    )
    if options.activesync:
        values[EAS_USERNAME] = expand_placeholders(config.login_template, address)
        return User(values, same_password=False)
    incoming = incoming_server(config, options.protocol)
    outgoing = config.outgoing[0]
    values[INCOMING_HOST] = incoming.host_for(address)
    values[INCOMING_USERNAME] = incoming.username_for(address)
    values[OUTGOING_HOST] = outgoing.host_for(address)
    values[OUTGOING_USERNAME] = outgoing.username_for(address)
    return User(values, values[INCOMING_USERNAME] == values[OUTGOING_USERNAME])


def _identity(prefix: str, user: User, kind: str) -> dict[str, Any]:
    profile_id = f"{prefix}.{user.text(_uuid_slot(KIND_PROFILE))}"
    identifier = profile_id if kind == KIND_PROFILE else f"{profile_id}.{kind}"
    return {
        "PayloadIdentifier": identifier,
        "PayloadUUID": user.text(_uuid_slot(kind)),
        "PayloadVersion": 1,
    }


def _server_keys(side: str, server: Server, host: str, username: str | None) -> dict[str, Any]:
    auth, _ = apple_auth(server.auth)
    keys: dict[str, Any] = {
        f"{side}MailServerHostName": host,
        f"{side}MailServerPortNumber": server.port,
        f"{side}MailServerUseSSL": USE_SSL[server.security],
        f"{side}MailServerAuthentication": auth,
    }
    if auth != APPLE_AUTH[Auth.NONE] and username is not None:
        keys[f"{side}MailServerUsername"] = username
    return keys


def _mail_payload(config: DomainConfig, user: User, options: ProfileOptions) -> dict[str, Any]:
    incoming = incoming_server(config, options.protocol)
    outgoing = config.outgoing[0]
    payload: dict[str, Any] = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadDisplayName": f"{config.name} ({incoming.protocol.value.upper()})",
        "PayloadDescription": Phrase(
            "The mail account %(address)s at %(provider)s.",
            address=user[ADDRESS], provider=config.name,
        ).translated(options.translate),
        **_identity(options.prefix, user, KIND_MAIL),
        "EmailAccountType": ACCOUNT_TYPE[incoming.protocol],
        "EmailAccountDescription": config.name,
        "EmailAddress": user[ADDRESS],
        **_server_keys("Incoming", incoming, user.text(INCOMING_HOST), user[INCOMING_USERNAME]),
        **_server_keys("Outgoing", outgoing, user.text(OUTGOING_HOST), user[OUTGOING_USERNAME]),
    }
    if options.account_name:
        payload["EmailAccountName"] = options.account_name
    both_need_passwords = "IncomingMailServerUsername" in payload and (
        "OutgoingMailServerUsername" in payload
    )
    if both_need_passwords:
        payload["OutgoingPasswordSameAsIncomingPassword"] = user.same_password
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
    dav: _DavKind, url: str, config: DomainConfig, user: User, options: ProfileOptions,
) -> dict[str, Any]:
    """A CalDAV/CardDAV account: the URL split into host, port, TLS and principal URL."""
    parts = urlsplit(url)
    use_ssl = parts.scheme == "https"
    key = dav.key

    def text(phrase: Phrase) -> str:
        filled = Phrase(phrase.msgid, provider=config.name, address=user[ADDRESS])
        return filled.translated(options.translate)

    payload: dict[str, Any] = {
        "PayloadType": f"com.apple.{dav.kind}.account",
        "PayloadDisplayName": text(dav.display),
        "PayloadDescription": text(dav.description),
        **_identity(options.prefix, user, dav.kind),
        f"{key}AccountDescription": text(dav.account),
        f"{key}HostName": _host(parts.hostname or ""),
        # Always an integer, never empty (docs/apple.md#no-empty-values).
        f"{key}Port": parts.port or (443 if use_ssl else 80),
        f"{key}UseSSL": use_ssl,
        f"{key}Username": user[ADDRESS],
    }
    if parts.path not in ("", "/") or parts.query:
        payload[f"{key}PrincipalURL"] = url
    return payload


def _eas_payload(config: DomainConfig, user: User, options: ProfileOptions) -> dict[str, Any]:
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
            address=user[ADDRESS], provider=config.name,
        ).translated(options.translate),
        **_identity(options.prefix, user, KIND_EAS),
        "EmailAddress": user[ADDRESS],
        "Host": host,
        "SSL": use_ssl,
        "UserName": user[EAS_USERNAME],
    }


def build_profile(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> dict[str, Any]:
    """The profile as a plist dictionary (what ``render_mobileconfig`` serialises)."""
    if options.activesync and config.activesync is None:
        raise ProfileRequestError(Phrase(
            "%(provider)s offers no Exchange ActiveSync server", provider=config.name
        ))
    return _build(config, user_values(config, address, options), options)


def _build(config: DomainConfig, user: User, options: ProfileOptions) -> dict[str, Any]:
    if options.activesync:
        content = [_eas_payload(config, user, options)]
    else:
        mail = _mail_payload(config, user, options)
        content = [mail, *_dav_payloads(config, user, options)]
    return {
        "PayloadType": "Configuration",
        "PayloadDisplayName": config.name,
        "PayloadDescription": Phrase(
            "Sets up %(address)s with the settings of %(provider)s.",
            address=user[ADDRESS], provider=config.name,
        ).translated(options.translate),
        "PayloadOrganization": config.name,
        "PayloadScope": "User",
        **_identity(options.prefix, user, KIND_PROFILE),
        "PayloadContent": content,
    }


def _dav_payloads(
    config: DomainConfig, user: User, options: ProfileOptions
) -> list[dict[str, Any]]:
    content = []
    if config.caldav:
        content.append(_dav_payload(_CALDAV, config.caldav, config, user, options))
    if config.carddav:
        content.append(_dav_payload(_CARDDAV, config.carddav, config, user, options))
    return content


def _check_options(options: ProfileOptions) -> None:
    if not is_reverse_dns(options.prefix):
        raise ProfileRequestError(f"profile prefix {options.prefix!r} is not reverse-DNS")
    if options.account_name is not None:
        check_account_name(options.account_name)


def render_mobileconfig(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> bytes:
    """The unsigned XML plist; raises ProfileRequestError for an impossible option."""
    _check_options(options)
    return plistlib.dumps(build_profile(config, address, options), fmt=plistlib.FMT_XML)


def render_domain_mobileconfig(
    config: DomainConfig, address: EmailAddress, options: ProfileOptions
) -> bytes:
    """``render_mobileconfig`` for a domain's own record (one from the registry): the
    profile is built once per record and options with a marker for every per-user
    value, and per request those values are filled in, escaped as plistlib escapes
    them (plistlib takes three times as long as all the rest of a request). A record
    made for one user (``with_login``) goes to ``render_mobileconfig``, never here."""
    _check_options(options)
    if options.activesync and config.activesync is None:
        return render_mobileconfig(config, address, options)  # raises ProfileRequestError
    user = user_values(config, address, options)
    values = _escaped(user, options.account_name)
    if values is None:
        return render_mobileconfig(config, address, options)
    key = (options.prefix, options.protocol, options.activesync,
           options.account_name is not None, user.same_password, options.translate)
    prepared = _PREPARED.get(config, key, lambda: _prepare(config, user, options))
    if prepared is None:
        return render_mobileconfig(config, address, options)
    return prepared.fill(values)


_PREPARED: ByRecord[Slotted | None] = ByRecord()
ACCOUNT_NAME = "account-name"


def prepared_profiles() -> int:
    """How many prepared profiles this process keeps (tests: per-user records add none)."""
    return len(_PREPARED)


def _escaped(user: User, account_name: str | None) -> dict[str, bytes] | None:
    """The user's values as plistlib writes them, by slot; None if one is no plain text."""
    values = {**user.values, ACCOUNT_NAME: account_name}
    escaped: dict[str, bytes] = {}
    for name, value in values.items():
        if value is None:
            continue
        text = escape_text(value)
        if text is None:
            return None
        escaped[name] = text
    return escaped


def _prepare(config: DomainConfig, user: User, options: ProfileOptions) -> Slotted | None:
    """The profile with a marker for each of ``user``'s values (the same ones present)."""
    marked = User(
        {name: None if value is None else marker(name) for name, value in user.values.items()},
        user.same_password,
    )
    name = None if options.account_name is None else marker(ACCOUNT_NAME)
    marked_options = replace(options, account_name=name)
    document = plistlib.dumps(_build(config, marked, marked_options), fmt=plistlib.FMT_XML)
    known = {slot for slot, value in marked.values.items() if value is not None}
    return Slotted.cut(document, known | ({ACCOUNT_NAME} if name else set()))
