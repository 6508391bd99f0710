"""The one parser for email addresses and domain names that clients send us.

Every endpoint goes through here, so an address means the same thing to the
Thunderbird, Outlook and Apple answers: the domain is lower-cased and turned into
its IDNA 2008 (UTS 46 mapped) A-label form, the local part is kept as given.
Anything a client sends is untrusted; errors say what is wrong without
echoing control characters back.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass

import idna

from autoconfig.phrases import Phrase, as_phrase

MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit less the angle brackets
MAX_LOCAL_LENGTH = 64  # RFC 5321 section 4.5.3.1.1

# Characters RFC 5322 allows in an unquoted local part ("atext"), plus "." between atoms.
_ATEXT_ASCII = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]")
# An ASCII host name whose IDNA 2008 form is simply its lower case: letters, digits and
# inner hyphens, no "xn--"/"ab--" labels (those need the full IDNA checks).
_LABEL = r"(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A whole name of such labels in one match (a hoster's file may list 100 000 names): a
# label's look-ahead that runs into the next label only fails on a next label that is
# not plain anyway.
_PLAIN_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# Many such names, one per line, in one match ('.' never crosses a line break, so a
# label's look-ahead cannot see into the next name).
_PLAIN_NAMES = re.compile(rf"{_PLAIN_NAME.pattern}(?:\n{_PLAIN_NAME.pattern})*")
MAX_DOMAIN_LENGTH = 253


class AddressError(ValueError):
    """A client sent something that is not a usable email address or domain."""

    def __init__(self, message: str | Phrase) -> None:
        self.phrase = as_phrase(message)  # the settings page shows it in its language
        super().__init__(str(self.phrase))


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """A validated address: ``local`` as given, ``domain`` in lower-case A-label form."""

    local: str
    domain: str

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


# Characters people cannot see, named in words (never as code points: the page shows them).
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
MAX_LABEL_LENGTH = 63  # RFC 1035 section 2.3.4


def describe_char(char: str) -> str | Phrase:
    """Name a character for people: itself in quotes if it can be seen, else in words
    (a space, a tab, a line break, an invisible character); never raw control bytes."""
    if char in _LINE_BREAKS:
        return Phrase("a line break")
    if char == "\t":
        return Phrase("a tab")
    if char.isspace():
        return Phrase("a space")
    if not char.isprintable():
        return Phrase("an invisible character")
    return f'"{char}"' if char == "'" else f"'{char}'"


def _is_plain_ascii(name: str) -> bool:
    return (
        name.isascii()
        and len(name) <= MAX_DOMAIN_LENGTH
        and _PLAIN_NAME.fullmatch(name.lower()) is not None
    )


def plain_domain_names(names: list[str]) -> list[str] | None:
    """``[normalize_domain(n) for n in names]`` when every name is plain ASCII (then that
    is its lower case), in one regex match instead of one call per name: a hoster's
    file may list 100 000. None for an empty list or any other name (then check each)."""
    if not names or not all(type(name) is str for name in names):
        return None
    joined = "\n".join(names)
    if not joined.isascii() or max(map(len, names)) > MAX_DOMAIN_LENGTH:
        return None
    lowered = joined.lower()
    if _PLAIN_NAMES.fullmatch(lowered) is None:
        return None
    split = lowered.split("\n")
    return split if len(split) == len(names) else None  # no name held a line break


def normalize_domain(text: str) -> str:
    """Return ``text`` as a lower-case IDNA 2008 A-label domain, or raise AddressError.

    UTS 46 mapping (as the ``idna`` package does it) folds case and width, so
    ``Bücher.Example`` and ``xn--bcher-kva.example`` are the same key. Plain ASCII
    names skip the (slow, pure-Python) IDNA machinery: for them it only lower-cases.
    """
    if len(text) > MAX_DOMAIN_LENGTH + 1:  # before the cache: no huge keys in it
        raise AddressError(Phrase(
            "the domain is longer than %(count)d characters", count=MAX_DOMAIN_LENGTH
        ))
    return _normalize_domain(text)


@functools.lru_cache(maxsize=4096)
def _normalize_domain(text: str) -> str:
    name = text[:-1] if text.endswith(".") else text
    if not name:
        raise AddressError(Phrase("the domain is empty"))
    if _is_plain_ascii(name):
        return name.lower()
    for char in name:
        if unicodedata.category(char)[0] == "C" or char.isspace():
            raise AddressError(
                Phrase("the domain contains %(char)s", char=describe_char(char))
            )
    try:
        encoded = idna.encode(name, uts46=True, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError):
        raise AddressError(_why_not_a_domain(name)) from None
    if len(encoded) > MAX_DOMAIN_LENGTH:
        raise AddressError(Phrase(
            "the domain is longer than %(count)d characters", count=MAX_DOMAIN_LENGTH
        ))
    return encoded.decode("ascii").lower()


def _why_not_a_domain(name: str) -> Phrase:
    """What is wrong with a name IDNA refused, in words for people (the ``idna``
    package's own messages name code points and positions)."""
    labels = name.split(".")
    if not all(labels):
        return Phrase("the domain has a dot at its start or two dots in a row")
    for char in dict.fromkeys(name.replace(".", "")):
        if _refused_in_a_domain(char):
            return Phrase(
                "the domain contains %(char)s, which a domain name cannot hold",
                char=describe_char(char),
            )
    if any(label.startswith("-") or label.endswith("-") for label in labels):
        return Phrase("a part of the domain between dots starts or ends with '-'")
    if any(len(label) > MAX_LABEL_LENGTH for label in labels if label.isascii()):
        return Phrase(
            "a part of the domain between dots is longer than %(count)d characters",
            count=MAX_LABEL_LENGTH,
        )
    return Phrase("the domain is not a valid domain name")


def _refused_in_a_domain(char: str) -> bool:
    """Whether IDNA 2008 (UTS 46, STD3 rules) refuses ``char`` wherever it stands."""
    try:
        idna.encode(f"x{char}x", uts46=True, std3_rules=True, transitional=False)
    except idna.InvalidCodepoint:
        return True
    except (idna.IDNAError, UnicodeError):
        return False  # a rule about its neighbours (direction, joiners), not the letter
    return False


def display_domain(ascii_domain: str) -> str:
    """The Unicode (U-label) form of an A-label domain, for people to read."""
    try:
        return idna.decode(ascii_domain)
    except (idna.IDNAError, UnicodeError):
        return ascii_domain


def _check_local_part(local: str) -> None:
    if not local:
        raise AddressError(Phrase("the part before '@' is empty"))
    if len(local.encode("utf-8")) > MAX_LOCAL_LENGTH:
        # RFC 5321 counts octets: a letter outside ASCII takes two to four of them.
        raise AddressError(Phrase(
            "the part before '@' is too long: it can have at most %(count)d characters,"
            " fewer with letters outside A to Z", count=MAX_LOCAL_LENGTH
        ))
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise AddressError(
            Phrase("the part before '@' starts or ends with a dot, or has two dots in a row")
        )
    for char in local:
        if char == "." or _ATEXT_ASCII.fullmatch(char):
            continue
        if ord(char) > 0x7F and unicodedata.category(char)[0] not in "CZ":
            continue  # RFC 6531 (SMTPUTF8) lets letters of any script stand here
        raise AddressError(Phrase(
            "the part before '@' contains %(char)s, which an email address cannot hold",
            char=describe_char(char),
        ))


def parse_address(text: str) -> EmailAddress:
    """Parse an address as a client sends it (``?emailaddress=``, POX, profile form)."""
    if len(text) > MAX_ADDRESS_LENGTH:
        raise AddressError(Phrase(
            "the address is longer than %(count)d characters", count=MAX_ADDRESS_LENGTH
        ))
    if "\ufffd" in text:
        # Only a link with broken percent-encoding gets here (the form sends UTF-8).
        raise AddressError(Phrase("the address contains characters that could not be read"))
    if "@" not in text:
        raise AddressError(Phrase("the address has no '@'"))
    local, _, domain = text.rpartition("@")
    _check_local_part(local)
    if not domain:
        raise AddressError(Phrase("the part after '@' is empty"))
    return EmailAddress(local=local, domain=normalize_domain(domain))


def host_without_port(host: str) -> str:
    """Strip a ``:port`` suffix from a Host header value (IPv6 literals stay whole)."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# --- Server addresses in settings and options (nameservers, trusted proxies) --------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str) -> tuple[Network, ...]:
    """``"127.0.0.1, ::1, 10.0.0.0/8"`` as networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"expected IP addresses or networks; got {entry!r}") from None
    return tuple(networks)


DNS_PORT = 53


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"127.0.0.1:5353"``, ``"[::1]:5353"``, ``"::1"`` or ``"9.9.9.9"`` -> (address, port)."""
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"expected [IPv6]:PORT; got {text!r}")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"expected an IP address with an optional :PORT; got {text!r}") from None
    if not port_text:
        return address, DNS_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"expected a port from 1 to 65535; got {port_text!r}")
    return address, int(port_text)


# A reverse-DNS identifier prefix (Apple's PayloadIdentifier, ``org.example.autoconfig``).
_REVERSE_DNS = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def is_reverse_dns(text: str) -> bool:
    """Whether ``text`` can prefix a PayloadIdentifier (``org.example.autoconfig``)."""
    return _REVERSE_DNS.fullmatch(text) is not None
