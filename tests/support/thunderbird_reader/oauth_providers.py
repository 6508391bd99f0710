"""OAuth2Providers.sys.mjs: the hosts Thunderbird has built-in OAuth2 for.

The oracle's own restatement of ``kHostnames``, ``kIssuersWithoutExchangeSupport`` and
``getHostnameDetails`` (mozilla/releases-comm-central, mailnews/base/src, commit
003b6e96e472c54acc4332d3e9eaa7426f549664), grouped by issuer. It deliberately does not
import the server's table (autoconfig/render/thunderbird_oauth.py): a test compares the two.
The test-only ``*.test`` hosts of that file are left out.
"""

from __future__ import annotations

from typing import Final

ALL_MAIL_AND_DAV: Final = frozenset({"imap", "pop3", "smtp", "carddav", "caldav"})
MICROSOFT_PROTOCOLS: Final = frozenset({"imap", "pop3", "smtp", "ews", "exchange"})

# issuer -> (host names, protocols that have scopes; None = one scope for every protocol)
ISSUERS: Final[dict[str, tuple[tuple[str, ...], frozenset[str] | None]]] = {
    "accounts.google.com": (("googlemail.com", "gmail.com"), ALL_MAIL_AND_DAV),
    "o2.mail.ru": (("imap.mail.ru", "smtp.mail.ru"), None),
    "oauth.yandex.com": (("imap.yandex.com", "smtp.yandex.com"), None),
    "Seznam.cz": (("imap.seznam.cz", "smtp.seznam.cz", "pop3.seznam.cz", "caldav.seznam.cz",
                   "carddav.seznam.cz", "carddav-personal.seznam.cz"), None),
    "login.yahoo.com": (("yahoo.com", "att.net"), None),
    "login.aol.com": (("aol.com",), None),
    "login.microsoftonline.com": (
        ("office365.com", "graph.microsoft.com", "outlook.com", "hotmail.com"),
        MICROSOFT_PROTOCOLS,
    ),
    "www.fastmail.com": (("imap.fastmail.com", "pop.fastmail.com", "smtp.fastmail.com"),
                         ALL_MAIL_AND_DAV),
    "comcast.net": (("imap.comcast.net", "pop.comcast.net", "smtp.comcast.net"), None),
    "auth.tb.pro": (("thundermail.com",), None),
    "auth-stage.tb.pro": (("stage-thundermail.com",), None),
}
# Google's API hosts and Fastmail's DAV hosts carry a single scope string.
SINGLE_SCOPE_HOSTS: Final = {
    "www.googleapis.com": "accounts.google.com",
    "apidata.googleusercontent.com": "accounts.google.com",
    "carddav.fastmail.com": "www.fastmail.com",
    "caldav.fastmail.com": "www.fastmail.com",
}
# Single-scope issuers Thunderbird refuses for "exchange" (it lists "seznam.cz" in lower
# case while the issuer is spelled "Seznam.cz", so Seznam is not actually refused).
NO_EXCHANGE: Final = frozenset({"o2.mail.ru", "oauth.yandex.com", "login.yahoo.com",
                                "login.aol.com", "comcast.net", "auth.tb.pro",
                                "auth-stage.tb.pro", "seznam.cz"})


def _entry(host: str) -> tuple[str, frozenset[str] | None] | None:
    if host in SINGLE_SCOPE_HOSTS:
        return SINGLE_SCOPE_HOSTS[host], None
    for issuer, (hosts, protocols) in ISSUERS.items():
        if host in hosts:
            return issuer, protocols
    return None


def oauth2_issuer(hostname: str, protocol: str) -> str | None:
    """The issuer Thunderbird would use for ``hostname`` and ``protocol``, else None.

    getHostnameDetails: lower-case, then try the name and each parent while it still
    contains a dot; owl* types count as exchange.
    """
    if protocol.startswith("owl"):
        protocol = "exchange"
    host = hostname.lower()
    while "." in host:
        entry = _entry(host)
        if entry is not None:
            issuer, protocols = entry
            if protocols is None:
                return None if protocol == "exchange" and issuer in NO_EXCHANGE else issuer
            return issuer if protocol in protocols else None
        host = host.split(".", 1)[1]
    return None


def known_hosts() -> frozenset[str]:
    """Every host name of the table (parents of a server's name are matched too)."""
    hosts = set(SINGLE_SCOPE_HOSTS)
    for names, _ in ISSUERS.values():
        hosts.update(names)
    return frozenset(hosts)
