"""Answers prepared once per domain record and filled in per request.

Most of a POX answer or an Apple profile is the same for every user of a domain; only a
few strings (login names, the address, identifiers derived from it) differ. Renderers
build the document once with a unique marker in each of those places, cut it at the
markers (``Slotted``), and per request join the parts with the user's values, escaped
as the serializer would have escaped them.

The memo (``ByRecord``) is keyed by the record's identity, not its value: hashing a
frozen ``DomainConfig`` hashes every field, and a hoster's one-file record lists up to
100 000 domains. A record is never changed after loading, and a reload that changes a
file makes a new one, so the same object always means the same settings; each entry
keeps its record alive, so no other record can take its ``id`` while the entry exists.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from autoconfig.domains.records import DomainConfig

T = TypeVar("T")

# Prepared answers a worker keeps per kind; each is a few KB. When full, the memo starts
# over (one dict operation at a time, so threads need no lock), as the rendered
# Thunderbird documents do.
PREPARED_KEPT = 4096

# Per process and unguessable: no domain file and no client can write a marker.
_TOKEN = secrets.token_hex(12)


def marker(name: str) -> str:
    """The marker of slot ``name`` (lower-case letters, digits, '-'): ASCII text every
    serializer writes unchanged, ended by '_' so that no name runs into what follows."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a slot name: {name!r}")
    return f"slot{_TOKEN}{name}_"


_NAME = re.compile("[a-z0-9-]+")
_TOKEN_BYTES = _TOKEN.encode("ascii")
_MARKER = re.compile(f"slot{_TOKEN}([a-z0-9-]+)_".encode("ascii"))


class ByRecord(Generic[T]):
    """A memo of prepared answers per (record, key), the record compared by identity.

    A record replaced by a reload (a new record from the same file) has its answers
    dropped when the new one's first answer is kept: a hoster's record may hold
    100 000 domains, and the memo would otherwise keep every edited version alive.
    """

    __slots__ = ("_kept", "_latest")

    def __init__(self) -> None:
        self._kept: dict[tuple[int, object], tuple[DomainConfig, T]] = {}
        self._latest: dict[str, DomainConfig] = {}  # source file -> its newest record

    def get(self, config: DomainConfig, key: object, prepare: Callable[[], T]) -> T:
        """The answer for ``config`` and ``key``, prepared by ``prepare`` if not kept."""
        entry = self._kept.get((id(config), key))
        if entry is not None and entry[0] is config:
            return entry[1]
        value = prepare()
        self._forget_replaced(config)
        if len(self._kept) >= PREPARED_KEPT:
            self._kept, self._latest = {}, {}
        self._kept[(id(config), key)] = (config, value)
        self._latest[config.source] = config
        return value

    def _forget_replaced(self, config: DomainConfig) -> None:
        """Drop the answers of the record ``config`` replaces (same file, other object);
        a new dict is swapped in whole, so threads reading the old one need no lock."""
        replaced = self._latest.get(config.source)
        if replaced is not None and replaced is not config:
            self._kept = {k: v for k, v in self._kept.items() if v[0] is not replaced}

    def __len__(self) -> int:
        return len(self._kept)


@dataclass(frozen=True, slots=True)
class Slotted:
    """A document cut at its markers: ``parts`` around ``slots`` (one fewer)."""

    parts: tuple[bytes, ...]
    slots: tuple[str, ...]

    @classmethod
    def cut(cls, document: bytes, known: set[str]) -> Slotted | None:
        """``document`` cut at every marker; None if a marker names a slot not ``known``
        or the token shows up anywhere but in a whole marker (then the caller builds
        each answer whole). A known slot may be missing: its value is not used."""
        pieces = _MARKER.split(document)
        slots = tuple(name.decode("ascii") for name in pieces[1::2])
        parts = tuple(pieces[0::2])
        if not set(slots) <= known or any(_TOKEN_BYTES in part for part in parts):
            return None
        return cls(parts, slots)

    def fill(self, values: Mapping[str, bytes]) -> bytes:
        """The document with each slot replaced by its (already escaped) value."""
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out.append(values[slot])
            out.append(part)
        return b"".join(out)


def escape_text(value: str) -> bytes | None:
    """``value`` as lxml and plistlib write XML character data (UTF-8, with ``&``, ``<``
    and ``>`` escaped), or None when it holds anything else those writers treat
    specially (line breaks, control and other non-printable characters): the caller
    then renders the whole document, so odd values behave exactly as before."""
    if not value.isprintable():
        return None
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")
