"""One loaded configuration (a ``Snapshot``) and how it is built from the domain files.

A snapshot (the registry of loaded records and the stamps of the files it came from) is
immutable: a reload builds a new one (``reloader.py``) and swaps a single reference, so
requests never see half a configuration. Building is here, and only building: from the
compiled cache where it is still right, by editing the previous snapshot in place when a
few of 100 000 files changed, or by reading the directory afresh.
"""

from __future__ import annotations

import logging
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autoconfig.domains.gc_pause import paused_gc
from autoconfig.domains.load import (
    FileStamp,
    LoadedFile,
    display_prefix,
    file_stamp,
    load_file,
    scan_domain_files,
)
from autoconfig.domains.registry import (
    Registry,
    load_directory,
    require_domains,
    with_files_replaced,
)

log = logging.getLogger("autoconfig")

# File name -> stamp, in name order (the load order). A reload copies and compares these
# in C (dict copy and equality) instead of walking 100 000 pairs in Python.
Signature = Mapping[str, FileStamp]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One loaded configuration: what every request in flight reads."""

    registry: Registry
    signature: Signature
    loaded_at: float


def directory_signature(directory: Path) -> Signature:
    """Names, sizes and modification times of the domain files: changes mean reload."""
    try:
        return scan_domain_files(directory)
    except OSError:
        return {}


def build_snapshot(
    directory: Path,
    previous: Snapshot | None = None,
    signature: Signature | None = None,
    cached: Mapping[str, LoadedFile] | None = None,
    hint: frozenset[str] | None = None,
) -> Snapshot:
    """Load ``directory`` into a new snapshot.

    ``signature``: the scan a reload already made, so the files are listed only once.
    ``cached``: what an earlier start compiled (``cache``); files whose stamp still
    matches are taken from it instead of being read again.
    ``hint``: the only names that may differ from ``previous`` (what inotify reported).
    """
    with paused_gc():
        return _build_snapshot(directory, previous, signature, cached, hint)


def _build_snapshot(
    directory: Path,
    previous: Snapshot | None,
    signature: Signature | None,
    cached: Mapping[str, LoadedFile] | None,
    hint: frozenset[str] | None,
) -> Snapshot:
    if signature is None:
        signature = directory_signature(directory)
    if previous is not None and not cached:
        edited = _edited_in_place(directory, previous, signature, hint)
        if edited is not None:
            return edited
    reusable = {name: loaded for name, loaded in (cached or {}).items() if _logo_unchanged(loaded)}
    registry = load_directory(
        directory, previous.registry if previous else None, signature, reusable
    )
    return Snapshot(registry, signature, time.time())


def _logo_unchanged(loaded: LoadedFile) -> bool:
    """Whether the logo file a cached record holds the bytes of is still as it was then
    (the domain file's own stamp says nothing about it)."""
    if loaded.logo_stamp is None:
        return True
    path, stamp = loaded.logo_stamp
    return file_stamp(Path(path)) == stamp


def _edited_in_place(
    directory: Path, previous: Snapshot, after: Signature, hint: frozenset[str] | None
) -> Snapshot | None:
    """The new snapshot when a few files were edited and none came or went, built from
    ``previous`` without going through every file; None when that does not apply.

    ``hint``: the names that may have changed; without it every stamp is compared.
    """
    before = previous.signature
    if len(before) != len(after) or (hint is None and before.keys() != after.keys()):
        return None
    candidates = after.keys() if hint is None else hint
    changed = [name for name in candidates if before.get(name) != after.get(name)]
    if not changed or len(changed) > EDITS_IN_PLACE:
        return None
    if not all(name in before and name in after for name in changed):
        return None  # one came, one went
    shown = display_prefix(directory)
    results = [load_file(directory / name, shown + name, after[name]) for name in changed]
    registry = with_files_replaced(previous.registry, results)
    if registry is None:
        return None
    return Snapshot(registry, after, time.time())


EDITS_IN_PLACE = 100  # more edited files at once: build the registry afresh


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


def is_cached(loaded: LoadedFile, cached: Mapping[str, LoadedFile]) -> bool:
    """Whether a load took ``loaded`` from the cache (rather than reading its file)."""
    return cached.get(loaded.path) is loaded


def first_snapshot(directory: Path, cached: Mapping[str, LoadedFile]) -> Snapshot:
    """The snapshot of a start (or of `check`): from the cache where it is still right,
    the other files read on every core (``parallel``)."""
    return build_snapshot(directory, cached=cached)


def start_snapshot(
    directory: Path, cached: Mapping[str, LoadedFile], cache_path: Path | None
) -> Snapshot:
    """The snapshot a server starts with, reported in the log; raises
    ``NoValidDomainsError`` when it would serve nothing.

    ``cached``: what the compiled cache at ``cache_path`` held.
    """
    snapshot = first_snapshot(directory, cached)
    require_domains(snapshot.registry, directory)
    if cached:
        total = len(snapshot.signature)
        reused = sum(is_cached(f, cached) for f in snapshot.registry.files)
        log.info("%d of %d domain files read, %d taken from the compiled cache %s",
                 total - reused, total, reused, cache_path)
    log_registry(snapshot.registry)
    return snapshot


def restamped(signature: Signature, directory: Path, names: frozenset[str]) -> Signature:
    """``signature`` with the stamps of ``names`` taken again (added, changed or gone)."""
    stamps = dict(signature)  # a copy in C: this runs at every reported change
    known = len(stamps)
    for name in names:
        try:
            status = (directory / name).stat()
        except OSError:
            stamps.pop(name, None)
            continue
        if stat.S_ISREG(status.st_mode):
            stamps[name] = (status.st_mtime_ns, status.st_size)
        else:
            stamps.pop(name, None)
    if len(stamps) != known or not names <= stamps.keys():
        return dict(sorted(stamps.items()))  # names came or went: keep name order
    return stamps
