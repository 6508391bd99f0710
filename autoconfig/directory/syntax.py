"""Offline checks of a ``directory:`` block for ``autoconfig check``: is the base a DN
(RFC 4514) and is the filter, with the placeholders filled in, a filter (RFC 4515)?

A file that fails them would only ever answer with its template, and the server would
say so once, at the first lookup; ``check`` says it before deploying. ldap3's own
parsers read both (``ldap3.utils.dn.parse_dn``, ``ldap3.operation.search.parse_filter``,
ldap3's documentation "DN and filter syntax"); they accept a few things RFC 4515 does
not (attribute names with spaces, ``\\`` not followed by two hex digits), which are
checked here too. Whether the base exists and the service account may search it only
the directory can say: ``check --online`` asks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from autoconfig.address import parse_address
from autoconfig.directory.connection import import_ldap3
from autoconfig.domains.records import DirectorySearch, expand_placeholders
from autoconfig.settings import SettingsError

# RFC 4512 section 2.5: an attribute description is a descr or numericoid with options.
_DESCRIPTION = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)(?:;[A-Za-z0-9-]+)*")
# RFC 4515 section 3: a backslash in a value starts exactly two hex digits.
_BAD_ESCAPE = re.compile(r"\\(?![0-9A-Fa-f]{2})")
# The address the placeholders are filled with: each part of it escaped as for a lookup.
SAMPLE_ADDRESS = parse_address("jane.doe@example.org")

KeyPath = tuple[str | int, ...]


def ldap_available() -> bool:
    """Whether ldap3 (``autoconfig[ldap]``) is installed, so the checks can run."""
    try:
        import_ldap3()
    except SettingsError:  # ldap3 not installed
        return False
    return True


@lru_cache(maxsize=1024)  # a hoster's thousands of files share a few searches
def search_problems(search: DirectorySearch) -> tuple[tuple[KeyPath, str], ...]:
    """What is wrong with ``search``, by key; nothing if it is well-formed."""
    ldap3 = import_ldap3()
    return (*_base_problems(ldap3, search.base), *_filter_problems(ldap3, search.filter))


def _base_problems(ldap3: Any, base: str) -> Iterator[tuple[KeyPath, str]]:
    try:
        parts = ldap3.utils.dn.parse_dn(base)
    except Exception as error:  # ldap3's LDAPInvalidDnError and kin
        yield ("directory", "base"), f"expected a DN (RFC 4514): {error}; got {base!r}"
        return
    for attribute, _value, _separator in parts:
        if not _DESCRIPTION.fullmatch(attribute):
            yield ("directory", "base"), (
                f"expected a DN (RFC 4514): {attribute!r} is no attribute type; got {base!r}"
            )
            return


def _filter_problems(ldap3: Any, template: str) -> Iterator[tuple[KeyPath, str]]:
    text = expand_placeholders(template, SAMPLE_ADDRESS, ldap3.utils.conv.escape_filter_chars)
    where = ("directory", "filter")
    shown = f"got {template!r} (with the placeholders filled in: {text!r})"
    if _BAD_ESCAPE.search(text):
        yield where, f"expected \\ followed by two hex digits (RFC 4515 section 3); {shown}"
        return
    try:
        node = ldap3.operation.search.parse_filter(text, None, False, False, None, False)
    except Exception as error:  # ldap3's LDAPInvalidFilterError and kin
        yield where, f"expected an LDAP filter (RFC 4515): {error}; {shown}"
        return
    for attribute in _attributes(node):
        if not _DESCRIPTION.fullmatch(attribute):
            yield where, (
                f"expected an LDAP filter (RFC 4515): {attribute!r} is no attribute; {shown}"
            )
            return


def _attributes(node: Any) -> Iterator[str]:
    assertion = getattr(node, "assertion", None)
    if assertion and "attr" in assertion:
        yield str(assertion["attr"])
    for child in getattr(node, "elements", ()):
        yield from _attributes(child)
