"""The configuration a running server holds, and how it is reloaded safely.

A ``Snapshot`` (registry + the Thunderbird and PACC documents rendered once for it) is
immutable; reload builds a new one and swaps a single reference, so requests
never see half a configuration. A reload that fails keeps the last good one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from autoconfig.loader import FileStamp, scan_domain_files
from autoconfig.model import DomainConfig
from autoconfig.registry import NoValidDomainsError, Registry, load_directory, require_domains
from autoconfig.render.pacc import render_pacc
from autoconfig.render.thunderbird import render_thunderbird

log = logging.getLogger("autoconfig")

Signature = tuple[tuple[Path, FileStamp], ...]


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    """Response bytes with their strong ETag, computed once per load."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> RenderedDocument:
        """Wrap ``body`` with an ETag derived from its content."""
        return cls(body, hashlib.sha256(body).hexdigest()[:32])


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One loaded configuration: what every request in flight reads."""

    registry: Registry
    thunderbird: Mapping[str, RenderedDocument]
    signature: Signature
    loaded_at: float
    pacc: Mapping[str, RenderedDocument] = field(default_factory=dict)  # by served domain

    def thunderbird_document(self, config: DomainConfig) -> RenderedDocument:
        """The prerendered clientConfig document of ``config``'s file."""
        return self.thunderbird[config.id]

    def pacc_document(self, config: DomainConfig, domain: str) -> RenderedDocument:
        """``domain``'s PACC document: prerendered, or (a domain found by MX) rendered now.

        Either way the bytes are a pure function of file and domain, as DNS needs.
        """
        document = self.pacc.get(domain)
        if document is None or self.registry.lookup(domain) is not config:
            return RenderedDocument.of(render_pacc(config, domain))
        return document


def directory_signature(directory: Path) -> Signature:
    """Names, sizes and modification times of the domain files: changes mean reload."""
    try:
        return tuple(scan_domain_files(directory).items())
    except OSError:
        return ()


def build_snapshot(
    directory: Path, previous: Snapshot | None = None, signature: Signature | None = None
) -> Snapshot:
    """Load ``directory`` and render the per-domain documents once.

    ``signature``: the scan a reload already made, so the files are listed only once.
    """
    if signature is None:
        signature = directory_signature(directory)
    registry = load_directory(directory, previous.registry if previous else None, dict(signature))
    documents = {c.id: _document(c, previous) for c in registry.configs}
    pacc = {d: _pacc(d, c, previous) for d, c in registry.by_domain.items()}
    return Snapshot(
        registry, MappingProxyType(documents), signature, time.time(), MappingProxyType(pacc)
    )


def _document(config: DomainConfig, previous: Snapshot | None) -> RenderedDocument:
    """Render ``config`` unless the previous snapshot already holds this very record."""
    if previous is not None:
        old = previous.registry.lookup(config.id)
        if old is config:
            return previous.thunderbird[config.id]
    return RenderedDocument.of(render_thunderbird(config))


def _pacc(domain: str, config: DomainConfig, previous: Snapshot | None) -> RenderedDocument:
    """Like ``_document``, for one domain's PACC document."""
    if previous is not None and previous.registry.lookup(domain) is config:
        old = previous.pacc.get(domain)
        if old is not None:
            return old
    return RenderedDocument.of(render_pacc(config, domain))


def log_registry(registry: Registry) -> None:
    """Start-up and reload report: what was loaded, what was wrong."""
    for error in registry.errors:
        log.error("%s", error)
    for path in registry.kept_previous:
        log.warning("%s: keeping the last good version of this file", path)
    log.info(
        "serving %d domains from %d files (%d errors)",
        len(registry.by_domain), len(registry.files), len(registry.errors),
    )


class LoadObserver(Protocol):
    """Told about every load (the metrics): accepted with its duration, or refused."""

    def loaded(self, registry: Registry, seconds: float, generation: int) -> None:
        """A load was accepted; ``generation`` counts them in this process, from 1."""

    def refused(self) -> None:
        """A reload was refused; the last good configuration keeps serving."""


class ConfigStore:
    """Holds the current snapshot and reloads it when the domain files change."""

    def __init__(
        self, directory: Path, reload_interval: float, observer: LoadObserver | None = None
    ) -> None:
        self.directory = directory
        self.reload_interval = reload_interval
        self._observer = observer
        started = time.perf_counter()
        snapshot = build_snapshot(directory)
        require_domains(snapshot.registry, directory)
        log_registry(snapshot.registry)
        self._snapshot = snapshot
        self.generation = 1
        if observer is not None:
            observer.loaded(snapshot.registry, time.perf_counter() - started, self.generation)
        self._refused: Signature | None = None
        self._lock = threading.Lock()
        self._watcher_pid: int | None = None

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot to answer with; never waits for a reload."""
        if self.reload_interval and self._watcher_pid != os.getpid():
            self._start_watcher()
        return self._snapshot

    def _start_watcher(self) -> None:
        """Watch the files from a thread of this process (started after gunicorn's fork).

        A worker forked long after start-up (a respawn) first catches up with the files
        as they are now; the reload reads only files changed since the last load.
        """
        self._watcher_pid = os.getpid()
        self.reload_if_changed()
        threading.Thread(target=self._watch, name="autoconfig-reload", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.reload_interval)
            try:
                self.reload_if_changed()
            except Exception:  # a bug here must not stop future reloads
                log.exception("checking the domain files for changes failed")

    def reload_if_changed(self) -> bool:
        """Rebuild if the files changed; one thread does it while the others keep serving."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            signature = directory_signature(self.directory)
            if signature in (self._snapshot.signature, self._refused):
                return False
            return self._reload(signature)
        finally:
            self._lock.release()

    def _reload(self, signature: Signature) -> bool:
        started = time.perf_counter()
        try:
            snapshot = build_snapshot(self.directory, self._snapshot, signature)
            require_domains(snapshot.registry, self.directory)
        except NoValidDomainsError as error:
            log.error("reload refused, the last good configuration keeps serving: %s", error)
            self._refused = signature  # report once, not at every check
            if self._observer is not None:
                self._observer.refused()
            return False
        log_registry(snapshot.registry)
        self._snapshot = snapshot
        self.generation += 1
        if self._observer is not None:
            self._observer.loaded(
                snapshot.registry, time.perf_counter() - started, self.generation
            )
        return True
