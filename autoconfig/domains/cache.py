"""A compiled copy of the loaded domain files, so that a restart with unchanged files is fast.

Reading 100 000 YAML files costs seconds; reading back what they compiled to costs
less than one. One file per domains directory holds, for every file that loaded, its
stamp (size and modification time) and its record; a file whose stamp changed is read
again. The whole cache is dropped when the record format,
the file format, autoconfig or Python change (``cache_key``). Failing to read or write
the cache only costs speed: one log line, never a refusal to start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from autoconfig.distribution import installed_version
from autoconfig.domains import records
from autoconfig.domains.fileformat import json_schema
from autoconfig.domains.gc_pause import paused_gc
from autoconfig.domains.load import LoadedFile, display_prefix

log = logging.getLogger("autoconfig")

CACHE_FORMAT = 4  # bump when the layout of the cached data changes


@cache
def cache_key() -> str:
    """What the cached data depends on besides the files themselves."""
    classes = [c for c in vars(records).values() if isinstance(c, type)]
    record_fields = {
        cls.__name__: [field.name for field in dataclasses.fields(cls)]
        for cls in [*classes, LoadedFile]
        if dataclasses.is_dataclass(cls)
    }
    parts = [CACHE_FORMAT, installed_version(), sys.version, record_fields, json_schema()]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class CompiledCache:
    """The cache file of one domains directory inside ``folder``."""

    def __init__(self, folder: Path, directory: Path) -> None:
        digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:24]
        self.path = folder / f"domains-{digest}.cache"
        self.directory = str(directory.resolve())
        # How messages name the files depends on the working directory: a cache written
        # from another one is renamed on reading, not thrown away.
        self.shown = display_prefix(directory)

    def read(self) -> dict[str, LoadedFile]:
        """The cached files by displayed path; empty if absent, foreign or stale."""
        try:
            with self.path.open("rb") as file:
                # Unpickling runs code named in the file: only ever our own, private file.
                if not _is_private(file):
                    log.warning("%s: not a private file of this user; not used", self.path)
                    return {}
                key, directory = pickle.load(file)  # noqa: S301 - checked above
                if key != cache_key() or directory != self.directory:
                    return {}  # stale: the files are not even unpickled
                with paused_gc():
                    shown, files = pickle.load(file)  # noqa: S301 - checked above
                    if shown != self.shown:
                        files = _renamed(files, shown, self.shown)
        except FileNotFoundError:
            return {}
        except Exception as error:  # any damage means: compile again
            log.warning("%s: cannot be read (%s); compiling the domain files again",
                        self.path, error)
            return {}
        return files  # type: ignore[no-any-return]

    def write(self, files: Mapping[str, LoadedFile]) -> bool:
        """Replace the cache atomically; on failure log one line and carry on."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix="domains-", suffix=".tmp"
            )
            try:
                with os.fdopen(handle, "wb") as file:
                    pickler = Pickler(file, protocol=5)
                    pickler.dump((cache_key(), self.directory))
                    pickler.clear_memo()  # read back by two separate loads
                    pickler.dump((self.shown, dict(files)))
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
            _prune(self.path.parent, keep=self.path)
        except OSError as error:
            log.warning(
                "cannot write the compiled cache %s (%s): the next start reads every file",
                self.path, error.strerror or error,
            )
            return False
        return True

    def write_in_child(self, files: Mapping[str, LoadedFile], nice: int = 0) -> int:
        """``write`` from a forked child, so that this process goes on meanwhile (and its
        memory is not touched by pickling); the child's pid, to wait for if need be."""
        pid = os.fork()
        if pid:
            return pid
        try:  # pragma: no cover - the child's work is seen in the file
            os.nice(nice)
            self.write(files)
        finally:  # pragma: no cover
            os._exit(0)


def _renamed(files: dict[str, LoadedFile], old: str, new: str) -> dict[str, LoadedFile]:
    """``files`` as named from another working directory: ``old`` prefix -> ``new``."""
    renamed = {}
    for path, loaded in files.items():
        name = new + path.removeprefix(old)
        config = replace(loaded.config, source=name)
        renamed[name] = replace(loaded, path=name, config=config)
    return renamed


def _is_private(file: BinaryIO) -> bool:
    """Owned by this user and writable by no one else."""
    status = os.fstat(file.fileno())
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _prune(folder: Path, keep: Path) -> None:
    """Delete the caches of domains directories that are gone, and leftovers of writers
    that were killed, so that a folder shared by many directories (tests, trials) does
    not grow without end."""
    for path in folder.glob("domains-*"):
        try:
            if path.suffix == ".tmp":
                if time.time() - path.stat().st_mtime > 3600:
                    path.unlink()
                continue
            if path == keep:
                continue
            with path.open("rb") as file:
                if not _is_private(file):
                    continue
                _key, directory = pickle.load(file)  # noqa: S301 - our own files only
            if not Path(directory).is_dir():
                path.unlink()
        except Exception:  # noqa: S112 - pruning is best effort; a damaged file is left
            continue


class Pickler(pickle.Pickler):
    """Records as their class and field values: unpickled through ``__init__``, which is
    several times faster than the generic ``__setstate__`` of a frozen, slotted dataclass
    (it matters at 100 000 files)."""

    def reducer_override(self, obj: object) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            values = tuple(getattr(obj, field.name) for field in dataclasses.fields(obj))
            return type(obj), values
        return NotImplemented
