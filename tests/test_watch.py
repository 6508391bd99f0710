"""The directory watcher: what the kernel reports, the safety tick, waking it to stop."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autoconfig.domains.watch import SAFETY_TICKS, DirectoryWatcher

LONG = 30.0  # an interval no test waits out: an answer before it came from the kernel


@pytest.fixture
def domains_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "domains"
    folder.mkdir()
    (folder / "example.com.yaml").write_text("name: Example\n")
    return folder


@pytest.fixture
def watcher(domains_dir: Path) -> Iterator[DirectoryWatcher]:
    watching = DirectoryWatcher(domains_dir, LONG)
    yield watching
    watching.close()


def timed_wait(watcher: DirectoryWatcher) -> tuple[frozenset[str] | None, float]:
    started = time.monotonic()
    names = watcher.wait()
    return names, time.monotonic() - started


def test_an_edited_domain_file_is_reported_by_name(
    domains_dir: Path, watcher: DirectoryWatcher
) -> None:
    (domains_dir / "example.com.yaml").write_text("name: Edited\n")
    (domains_dir / "new.example.yml").write_text("name: New\n")
    names, seconds = timed_wait(watcher)
    assert names == {"example.com.yaml", "new.example.yml"}
    assert seconds < LONG / 2


def test_an_editors_swap_file_is_reported_as_no_domain_file(
    domains_dir: Path, watcher: DirectoryWatcher
) -> None:
    (domains_dir / ".example.com.yaml.swp").write_text("vim")
    names, seconds = timed_wait(watcher)
    assert names == frozenset()
    assert seconds < LONG / 2


def test_a_configmap_swap_of_data_asks_for_a_full_check(
    domains_dir: Path, watcher: DirectoryWatcher
) -> None:
    (domains_dir / "..2026_12_06").mkdir()
    events_so_far = watcher.wait()  # the new timestamped folder: a ".." name, too
    assert events_so_far is None
    (domains_dir / "..data_tmp").symlink_to("..2026_12_06")
    os.rename(domains_dir / "..data_tmp", domains_dir / "..data")
    names, seconds = timed_wait(watcher)
    assert names is None
    assert seconds < LONG / 2


def test_without_events_the_whole_directory_is_checked_at_the_safety_tick(
    domains_dir: Path,
) -> None:
    tick = 0.02
    watcher = DirectoryWatcher(domains_dir, tick)
    try:
        names, seconds = timed_wait(watcher)
    finally:
        watcher.close()
    assert names is None
    assert seconds >= SAFETY_TICKS * tick * 0.9  # not at the first tick: inotify said nothing


def test_wake_ends_a_wait_in_another_thread_at_once(watcher: DirectoryWatcher) -> None:
    results: list[frozenset[str] | None] = []
    waiting = threading.Thread(target=lambda: results.append(watcher.wait()))
    waiting.start()
    time.sleep(0.1)
    watcher.wake()
    waiting.join(timeout=5)
    assert not waiting.is_alive()
    assert results == [None]


def test_two_watchers_of_one_directory_each_see_every_event(
    domains_dir: Path, watcher: DirectoryWatcher
) -> None:
    other = DirectoryWatcher(domains_dir, LONG)  # as a forked process opens its own
    try:
        (domains_dir / "example.com.yaml").write_text("name: Edited\n")
        assert watcher.wait() == {"example.com.yaml"}
        assert other.wait() == {"example.com.yaml"}
    finally:
        other.close()


def test_close_releases_every_descriptor(domains_dir: Path) -> None:
    before = sorted(os.listdir("/proc/self/fd"))
    watcher = DirectoryWatcher(domains_dir, LONG)
    assert len(os.listdir("/proc/self/fd")) == len(before) + 3  # inotify, the wake-up pipe
    watcher.close()
    assert sorted(os.listdir("/proc/self/fd")) == before
