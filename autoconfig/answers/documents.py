"""Documents that are the same for every user of a domain, rendered once per snapshot.

Thunderbird's clientConfig and the PACC document depend only on the domain's record
(and, for PACC, the domain name), so a worker renders each on first request and keeps it
with its ETag for as long as the snapshot it came from is the one being served. They
belong to the serving layer: the loaded snapshot knows nothing of renderers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from autoconfig.domains.records import DomainConfig
from autoconfig.domains.snapshot import Snapshot
from autoconfig.render.pacc import render_pacc
from autoconfig.render.thunderbird import render_thunderbird


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    """Response bytes with their strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> RenderedDocument:
        """Wrap ``body`` with an ETag derived from its content."""
        return cls(body, hashlib.sha256(body).hexdigest()[:32])


# Documents a process keeps per snapshot and kind. Each is 1-2 KB, so a worker holds at
# most a few MB of them however many domains there are; a document that fell out is
# rendered again (tens of microseconds) with the same bytes and ETag.
RENDERED_DOCUMENTS_KEPT = 4096


class RenderedDocuments:
    """Documents rendered on first request and kept, up to ``RENDERED_DOCUMENTS_KEPT``.

    Rendering every domain's documents at load cost a third of a start at 100 000
    files, and the master that loads never serves them. When full, the memo starts
    over (one dict operation at a time, so threads need no lock): simpler than an LRU,
    and a hoster's busy domains are back after their next request.
    """

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: dict[str, RenderedDocument] = {}

    def get(self, key: str, render: Callable[[], bytes]) -> RenderedDocument:
        """The document under ``key``, rendered by ``render`` if not kept."""
        document = self._kept.get(key)
        if document is None:
            document = RenderedDocument.of(render())
            if len(self._kept) >= RENDERED_DOCUMENTS_KEPT:
                self._kept = {}
            self._kept[key] = document
        return document


class SnapshotDocuments:
    """The shared documents of one snapshot's records."""

    __slots__ = ("_pacc", "_thunderbird", "snapshot")

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._thunderbird = RenderedDocuments()
        self._pacc = RenderedDocuments()

    def thunderbird(self, config: DomainConfig) -> RenderedDocument:
        """The clientConfig document of ``config``'s file (a record of this snapshot)."""
        return self._thunderbird.get(config.id, lambda: render_thunderbird(config))

    def pacc(self, config: DomainConfig, domain: str) -> RenderedDocument:
        """``domain``'s PACC document; kept for a domain the files list, rendered anew for
        one found by MX. Either way the bytes are a pure function of file and domain,
        as the digest in DNS needs."""
        if self.snapshot.registry.lookup(domain) is not config:
            return RenderedDocument.of(render_pacc(config, domain))
        return self._pacc.get(domain, lambda: render_pacc(config, domain))


class Documents:
    """The documents of whichever snapshot is being served: a reload starts afresh."""

    __slots__ = ("_current",)

    def __init__(self) -> None:
        self._current: SnapshotDocuments | None = None

    def of(self, snapshot: Snapshot) -> SnapshotDocuments:
        """The memo of ``snapshot`` (two threads that race after a reload each make one;
        the bytes are the same, so either is right)."""
        current = self._current
        if current is None or current.snapshot is not snapshot:
            current = self._current = SnapshotDocuments(snapshot)
        return current
