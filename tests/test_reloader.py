"""The reloader: a new snapshot when the files change, a refusal kept and logged once."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from autoconfig.domains.registry import Registry
from autoconfig.domains.reloader import Reloader
from autoconfig.domains.snapshot import first_snapshot
from tests.support.domain_files import served_host, write_domain

REFUSED = "reload refused, the last good configuration keeps serving"


class Recorder:
    """The metrics' side of ``LoadObserver``: what it was told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def loaded(self, registry: Registry, seconds: float, generation: int) -> None:
        assert seconds >= 0
        self.events.append(("loaded", generation))

    def refused(self) -> None:
        self.events.append(("refused", 0))


@pytest.fixture
def domains_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "domains"
    folder.mkdir()
    write_domain(folder, "one.example", "imap.one.example")
    write_domain(folder, "two.example", "imap.two.example")
    return folder


@pytest.fixture
def observer() -> Recorder:
    return Recorder()


@pytest.fixture
def reloader(domains_dir: Path, observer: Recorder) -> Reloader:
    return Reloader(domains_dir, first_snapshot(domains_dir, {}), observer, load_seconds=0.5)


def test_the_start_up_load_is_generation_one_and_unchanged_files_change_nothing(
    reloader: Reloader, observer: Recorder
) -> None:
    before = reloader.snapshot
    told: list[str] = []
    assert not reloader.reload_if_changed(started=lambda: told.append("started"))
    assert reloader.snapshot is before
    assert reloader.generation == 1
    assert told == []
    assert observer.events == [("loaded", 1)]


def test_an_edit_is_served_by_a_new_snapshot_and_generation(
    domains_dir: Path, reloader: Reloader, observer: Recorder
) -> None:
    before = reloader.snapshot
    write_domain(domains_dir, "one.example", "mail.one.example")
    told: list[str] = []
    assert reloader.reload_if_changed(
        started=lambda: told.append(served_host(reloader, "one.example"))
    )
    assert told == ["imap.one.example"]  # told before the new files were read
    assert served_host(reloader, "one.example") == "mail.one.example"
    assert reloader.snapshot is not before
    assert reloader.generation == 2
    assert observer.events == [("loaded", 1), ("loaded", 2)]


def test_named_files_are_the_only_ones_looked_at(domains_dir: Path, reloader: Reloader) -> None:
    """What inotify reported is all a reload stat-s again."""
    write_domain(domains_dir, "one.example", "mail.one.example")
    write_domain(domains_dir, "two.example", "mail.two.example")
    assert reloader.reload_if_changed(frozenset({"one.example.yaml"}))
    assert served_host(reloader, "one.example") == "mail.one.example"
    assert served_host(reloader, "two.example") == "imap.two.example"
    assert reloader.reload_if_changed()  # a full look (the safety tick) finds the other
    assert served_host(reloader, "two.example") == "mail.two.example"


def test_a_refused_reload_keeps_the_last_good_snapshot_and_is_logged_once(
    domains_dir: Path, reloader: Reloader, observer: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    before = reloader.snapshot
    for path in domains_dir.iterdir():
        path.unlink()
    (domains_dir / "broken.yaml").write_text("name: [broken\n")
    with caplog.at_level(logging.INFO, logger="autoconfig"):
        for _ in range(3):
            assert not reloader.reload_if_changed()
    refusals = [r.message for r in caplog.records if REFUSED in r.message]
    assert len(refusals) == 1
    assert "no valid domain file" in refusals[0]
    assert "broken.yaml:1: the [ list that starts on this line is not closed" in refusals[0]
    assert reloader.snapshot is before
    assert reloader.generation == 1
    assert observer.events == [("loaded", 1), ("refused", 0)]
    write_domain(domains_dir, "three.example", "imap.three.example")  # a good file again: served
    assert reloader.reload_if_changed()
    assert served_host(reloader, "three.example") == "imap.three.example"
    assert reloader.generation == 2


def test_one_thread_reloads_while_another_asking_returns_at_once(
    domains_dir: Path, reloader: Reloader
) -> None:
    write_domain(domains_dir, "one.example", "mail.one.example")
    meanwhile: list[bool] = []

    def another_thread_asks() -> None:
        asking = threading.Thread(target=lambda: meanwhile.append(reloader.reload_if_changed()))
        asking.start()
        asking.join(timeout=5)

    assert reloader.reload_if_changed(started=another_thread_asks)
    assert meanwhile == [False]
    assert reloader.generation == 2


def test_a_child_forked_during_a_reload_can_reload_after_forked(
    domains_dir: Path, reloader: Reloader
) -> None:
    """The thread that held the lock at the fork is not in the child."""
    write_domain(domains_dir, "one.example", "mail.one.example")
    children: list[int] = []

    def fork_now() -> None:
        pid = os.fork()
        if pid:
            children.append(pid)
            return
        code = 1
        try:
            reloader.forked()
            write_domain(domains_dir, "two.example", "mail.two.example")
            ok = reloader.reload_if_changed() and served_host(reloader, "two.example") == (
                "mail.two.example"
            )
            code = 0 if ok else 2
        finally:
            os._exit(code)

    assert reloader.reload_if_changed(started=fork_now)
    _, status = os.waitpid(children[0], 0)
    assert os.waitstatus_to_exitcode(status) == 0
