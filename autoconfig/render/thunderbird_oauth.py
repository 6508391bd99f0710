"""Which mail servers Thunderbird can use OAuth2 with.

Thunderbird ignores the ``<oAuth2>`` block of an autoconfig file; an ``OAuth2``
``<authentication>`` entry works only when the server's hostname (or a parent domain of
it) is in Thunderbird's built-in provider table, and only for protocols that provider
has scopes for. Otherwise Thunderbird skips the entry and takes the next method, so a
server listing only ``OAuth2`` is dropped. ``autoconfig check`` uses this module to warn
when ``oauth2`` has no password fallback.

Source: Thunderbird's ``mailnews/base/src/OAuth2Providers.sys.mjs`` (``kHostnames``,
``kIssuersWithoutExchangeSupport``, ``getHostnameDetails``) in
``mozilla/releases-comm-central``, commit 003b6e96e472c54acc4332d3e9eaa7426f549664
(the newest version stored, with Thundermail and extension-registered providers; read
2026-11-26). Add-ons can register more providers since Thunderbird 140; those are not
known here. The test-only ``*.test`` hosts in that table are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

__all__ = ["THUNDERBIRD_OAUTH2_HOSTNAMES", "thunderbird_oauth2_issuer"]


class _Provider(NamedTuple):
    issuer: str
    # Protocols with scopes; None: one scope string, used for every protocol.
    protocols: frozenset[str] | None


_GOOGLE_FASTMAIL: Final = frozenset({"imap", "pop3", "smtp", "carddav", "caldav"})
# Microsoft: mail scopes, plus the EWS scopes Thunderbird swaps in for ews/exchange.
# (Graph scopes need the mail.graph.enabled pref, which is off by default.)
_MICROSOFT: Final = frozenset({"imap", "pop3", "smtp", "ews", "exchange"})

_PROVIDERS: Final[Mapping[str, _Provider]] = MappingProxyType(
    {
        "googlemail.com": _Provider("accounts.google.com", _GOOGLE_FASTMAIL),
        "gmail.com": _Provider("accounts.google.com", _GOOGLE_FASTMAIL),
        "www.googleapis.com": _Provider("accounts.google.com", None),
        "apidata.googleusercontent.com": _Provider("accounts.google.com", None),
        "imap.mail.ru": _Provider("o2.mail.ru", None),
        "smtp.mail.ru": _Provider("o2.mail.ru", None),
        "imap.yandex.com": _Provider("oauth.yandex.com", None),
        "smtp.yandex.com": _Provider("oauth.yandex.com", None),
        "imap.seznam.cz": _Provider("Seznam.cz", None),
        "smtp.seznam.cz": _Provider("Seznam.cz", None),
        "pop3.seznam.cz": _Provider("Seznam.cz", None),
        "caldav.seznam.cz": _Provider("Seznam.cz", None),
        "carddav.seznam.cz": _Provider("Seznam.cz", None),
        "carddav-personal.seznam.cz": _Provider("Seznam.cz", None),
        "yahoo.com": _Provider("login.yahoo.com", None),
        "att.net": _Provider("login.yahoo.com", None),
        "aol.com": _Provider("login.aol.com", None),
        "office365.com": _Provider("login.microsoftonline.com", _MICROSOFT),
        "graph.microsoft.com": _Provider("login.microsoftonline.com", _MICROSOFT),
        "outlook.com": _Provider("login.microsoftonline.com", _MICROSOFT),
        "hotmail.com": _Provider("login.microsoftonline.com", _MICROSOFT),
        "imap.fastmail.com": _Provider("www.fastmail.com", _GOOGLE_FASTMAIL),
        "pop.fastmail.com": _Provider("www.fastmail.com", _GOOGLE_FASTMAIL),
        "smtp.fastmail.com": _Provider("www.fastmail.com", _GOOGLE_FASTMAIL),
        "carddav.fastmail.com": _Provider("www.fastmail.com", None),
        "caldav.fastmail.com": _Provider("www.fastmail.com", None),
        "imap.comcast.net": _Provider("comcast.net", None),
        "pop.comcast.net": _Provider("comcast.net", None),
        "smtp.comcast.net": _Provider("comcast.net", None),
        "thundermail.com": _Provider("auth.tb.pro", None),
        "stage-thundermail.com": _Provider("auth-stage.tb.pro", None),
    }
)

# Issuers with a single scope string that Thunderbird refuses for "exchange". Thunderbird
# spells Seznam's issuer "Seznam.cz" but lists "seznam.cz" here, so Seznam is not excluded.
_NO_EXCHANGE: Final = frozenset(
    {
        "o2.mail.ru",
        "oauth.yandex.com",
        "login.yahoo.com",
        "login.aol.com",
        "comcast.net",
        "auth.tb.pro",
        "auth-stage.tb.pro",
        "seznam.cz",
    }
)

#: Table keys: a server hostname matches one when it equals it or is a subdomain of it
#: (e.g. ``imap.gmail.com`` matches ``gmail.com``). Use :func:`thunderbird_oauth2_issuer`
#: to test a hostname, since membership alone ignores subdomains and protocols.
THUNDERBIRD_OAUTH2_HOSTNAMES: Final[frozenset[str]] = frozenset(_PROVIDERS)


def thunderbird_oauth2_issuer(hostname: str, protocol: str) -> str | None:
    """Return the OAuth2 issuer Thunderbird would use, or None if it has no OAuth2 for it.

    ``protocol`` is Thunderbird's server type: ``imap``, ``pop3``, ``smtp``, ``nntp``,
    ``exchange``, ``ews``, ``carddav`` or ``caldav``. As in Thunderbird, the lookup is
    case-insensitive and walks up the domain one label at a time while a dot remains.
    """
    if protocol.startswith("owl"):
        protocol = "exchange"
    host = hostname.lower()
    provider = None
    while "." in host and provider is None:
        provider = _PROVIDERS.get(host)
        host = host.split(".", 1)[1]
    if provider is None:
        return None
    if provider.protocols is None:
        if protocol == "exchange" and provider.issuer in _NO_EXCHANGE:
            return None
        return provider.issuer
    return provider.issuer if protocol in provider.protocols else None
