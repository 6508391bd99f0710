"""One search for one address (RFC 4511 section 4.5): the filter, and what it found."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoconfig.address import EmailAddress
from autoconfig.directory.failures import DirectoryFailure, search_failure
from autoconfig.domains.records import DirectorySearch, expand_placeholders

# At most this many entries are read: one means the user, two that the filter is ambiguous.
SIZE_LIMIT = 2


@dataclass(frozen=True, slots=True)
class Person:
    """What the directory says about one address."""

    login: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A search's outcome: the person, or None with the number of entries matched
    (0: unknown; 2: the filter matches several entries, a file's mistake)."""

    person: Person | None
    entries: int


def search_filter(
    search: DirectorySearch, address: EmailAddress, escape: Callable[[str], str]
) -> str:
    """The file's filter with each placeholder replaced by that part of the address,
    escaped as RFC 4515 section 3 requires (``*``, ``(``, ``)``, ``\\``, NUL), so an
    address such as ``*)(uid=*@example.org`` matches only itself. One pass: a
    placeholder's text inside the address is text too."""
    return expand_placeholders(search.filter, address, escape)


def _first_value(attributes: dict[str, Any], name: str) -> str | None:
    """The first value of ``name`` (attribute names are case-insensitive), as text."""
    for key, values in attributes.items():
        if key.lower() == name.lower() and values:
            value = values[0]
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return None


def run_search(
    ldap3: Any, connection: Any, search: DirectorySearch, address: EmailAddress, timeout: float
) -> Found:
    """Search ``connection`` for ``address``; a ``DirectoryFailure`` if it fails."""
    attributes = [search.login_attribute]
    if search.name_attribute:
        attributes.append(search.name_attribute)
    try:
        connection.search(
            search.base,
            search_filter(search, address, ldap3.utils.conv.escape_filter_chars),
            search_scope=ldap3.SUBTREE,
            attributes=attributes,
            size_limit=SIZE_LIMIT,
            # the server's own limit, in whole seconds (RFC 4511 section 4.5.1.5)
            time_limit=max(1, math.ceil(timeout)),
        )
    except DirectoryFailure:
        raise
    except Exception as error:  # classified: the endpoint's or this file's
        raise search_failure(ldap3, error) from None
    entries = [e for e in connection.response or () if e.get("type") == "searchResEntry"]
    if len(entries) != 1:
        return Found(None, len(entries))
    raw = entries[0].get("raw_attributes", {})
    login = _first_value(raw, search.login_attribute)
    if not login:
        return Found(None, 1)
    name = _first_value(raw, search.name_attribute) if search.name_attribute else None
    return Found(Person(login, name or None), 1)
