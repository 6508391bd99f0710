"""The cache writer: once per start, only when due, from a child process that is reaped."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from autoconfig.domains.cache import CompiledCache
from autoconfig.domains.cache_writer import CacheWriter, cache_entries, snapshot_differs
from autoconfig.domains.load import LoadedFile
from autoconfig.domains.snapshot import first_snapshot

DOMAIN = """name: Customer {i}
domains: [customer{i}.example]
incoming: [{{protocol: imap, host: imap.customer{i}.example, security: tls}}]
outgoing: [{{host: smtp.customer{i}.example, security: tls}}]
"""


@pytest.fixture
def domains_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "domains"
    folder.mkdir()
    for i in range(3):
        (folder / f"customer{i}.example.yaml").write_text(DOMAIN.format(i=i))
    return folder


def zombie_children() -> list[int]:
    """Children of this process that ended and were never waited for."""
    zombies = []
    for task in os.listdir("/proc/self/task"):
        for pid in Path(f"/proc/self/task/{task}/children").read_text().split():
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
            if state == "Z":
                zombies.append(int(pid))
    return zombies


def test_a_start_that_compiled_files_writes_them_once_from_a_reaped_child(
    domains_dir: Path, tmp_path: Path
) -> None:
    cache = CompiledCache(tmp_path / "cache", domains_dir)
    snapshot = first_snapshot(domains_dir, cache.read())
    writer = CacheWriter(cache, stale=True)
    assert len(snapshot.registry.files) == 3

    assert writer.write_once(snapshot)
    writer.wait(timeout=30)
    written = cache.read()
    assert written.keys() == cache_entries(snapshot).keys()
    assert [f.config for f in written.values()] == [f.config for f in snapshot.registry.files]
    assert zombie_children() == []

    cache.path.unlink()
    assert not writer.write_once(snapshot)  # once per start, not after every reload
    writer.wait(timeout=30)
    assert not cache.path.exists()


def test_a_start_served_wholly_from_the_cache_writes_nothing(
    domains_dir: Path, tmp_path: Path
) -> None:
    cache = CompiledCache(tmp_path / "cache", domains_dir)
    assert cache.write(cache_entries(first_snapshot(domains_dir, {})))
    cached = cache.read()
    snapshot = first_snapshot(domains_dir, cached)
    assert len(cached) == 3
    assert not snapshot_differs(snapshot, cached)
    before = cache.path.stat().st_mtime_ns

    writer = CacheWriter(cache, snapshot_differs(snapshot, cached))
    assert not writer.write_once(snapshot)
    writer.wait(timeout=30)
    assert cache.path.stat().st_mtime_ns == before


def test_the_cache_is_due_when_a_file_was_edited_added_or_removed(
    domains_dir: Path, tmp_path: Path
) -> None:
    cache = CompiledCache(tmp_path / "cache", domains_dir)
    assert cache.write(cache_entries(first_snapshot(domains_dir, {})))
    edited = domains_dir / "customer1.example.yaml"
    edited.write_text(DOMAIN.format(i=1).replace("imap.customer1", "mail.customer1"))
    assert snapshot_differs(first_snapshot(domains_dir, cache.read()), cache.read())
    edited.write_text(DOMAIN.format(i=1))
    assert cache.write(cache_entries(first_snapshot(domains_dir, {})))
    (domains_dir / "customer3.example.yaml").write_text(DOMAIN.format(i=3))
    assert snapshot_differs(first_snapshot(domains_dir, cache.read()), cache.read())
    (domains_dir / "customer3.example.yaml").unlink()
    (domains_dir / "customer0.example.yaml").unlink()
    assert snapshot_differs(first_snapshot(domains_dir, cache.read()), cache.read())


def test_the_writer_is_another_process_at_the_lowest_priority(
    domains_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = CompiledCache(tmp_path / "cache", domains_dir)
    snapshot = first_snapshot(domains_dir, {})
    reader, writer_end = os.pipe()
    write = CompiledCache.write

    def write_and_say_who(self: CompiledCache, files: Mapping[str, LoadedFile]) -> bool:
        os.write(writer_end, f"{os.getpid()} {os.getpriority(os.PRIO_PROCESS, 0)}".encode())
        return write(self, files)

    monkeypatch.setattr(CompiledCache, "write", write_and_say_who)
    writer = CacheWriter(cache, stale=True)
    assert writer.write_once(snapshot)
    writer.wait(timeout=30)
    os.close(writer_end)
    with os.fdopen(reader) as said:
        pid, nice = said.read().split()
    assert int(pid) != os.getpid()
    assert int(nice) == 19
    assert cache.read().keys() == cache_entries(snapshot).keys()
