"""The follower: which processes follow the domain files, with one thread each.

Real threads and real forks in this process; every test stops what it started, so that
later tests run in a process with one thread again (the parallel loader needs that).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from autoconfig.domains.follow import Follower
from autoconfig.domains.reloader import Reloader
from autoconfig.domains.snapshot import first_snapshot
from autoconfig.domains.watch import DirectoryWatcher
from tests.support.domain_files import served_host, write_domain
from tests.support.system import wait_for as poll

wait_for = partial(poll, every=0.02)  # a thread, not a server: look often

# Python 3.12 warns about fork() in a process with threads; forking with the following
# thread running is exactly what a WSGI server does after `create_app()`.
pytestmark = pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)

INTERVAL = 0.2


def reload_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "autoconfig-reload"]


def in_child(body: Callable[[], bool]) -> int:
    """Fork now; the child runs ``body`` (its own checks) and exits 0 if it held."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the exit status is what the test reads
        code = 3
        try:
            code = 0 if body() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.fixture
def reloader(domains_dir: Path) -> Reloader:
    return Reloader(domains_dir, first_snapshot(domains_dir, {}))


@pytest.fixture
def follower(domains_dir: Path, reloader: Reloader) -> Iterator[Follower]:
    following = Follower(DirectoryWatcher(domains_dir, INTERVAL), reloader)
    yield following
    following.stop()
    assert reload_threads() == []


def test_building_a_follower_starts_nothing(follower: Follower) -> None:
    assert reload_threads() == []


def test_following_here_serves_an_edit_and_stop_ends_the_thread(
    domains_dir: Path, reloader: Reloader, follower: Follower
) -> None:
    follower.follow_everywhere()
    assert len(reload_threads()) == 1
    write_domain(domains_dir, "example.com", "mail.example.com")
    assert wait_for(lambda: served_host(reloader) == "mail.example.com")
    assert reloader.generation == 2
    follower.stop()
    assert reload_threads() == []


def test_as_master_the_callbacks_surround_each_reload_and_a_refused_one(
    domains_dir: Path, reloader: Reloader, follower: Follower
) -> None:
    told: list[str] = []
    follower.follow_as_master(
        on_reloaded=lambda: told.append(f"reloaded {reloader.generation}"),
        on_reload_started=lambda: told.append(f"started {reloader.generation}"),
    )
    write_domain(domains_dir, "example.com", "mail.example.com")
    assert wait_for(lambda: len(told) == 2)
    assert told == ["started 1", "reloaded 2"]
    (domains_dir / "example.com.yaml").unlink()  # nothing valid left: refused
    assert wait_for(lambda: len(told) == 4)
    assert told[2:] == ["started 2", "reloaded 2"]  # the workers it slowed are replaced
    assert served_host(reloader) == "mail.example.com"


def test_a_process_forked_from_one_following_everywhere_follows_by_itself(
    domains_dir: Path, reloader: Reloader, follower: Follower
) -> None:
    follower.follow_everywhere()
    assert wait_for(lambda: reloader.generation == 1 and served_host(reloader) > "")
    ready_in, ready_out = os.pipe()
    go_in, go_out = os.pipe()

    def child() -> bool:
        # It catches up before its fork returns: the edit made just before the fork.
        caught_up = served_host(reloader) == "first.example.com"
        own = [t.ident for t in reload_threads()] != []
        os.write(ready_out, b"ready")
        os.read(go_in, 1)  # then the parent edits again; no one forwards it here
        followed = wait_for(lambda: served_host(reloader) == "second.example.com")
        return caught_up and own and followed

    # the parent's thread needs > 50 ms to see it
    write_domain(domains_dir, "example.com", "first.example.com")
    pid_status: list[int] = []
    forking = threading.Thread(target=lambda: pid_status.append(in_child(child)))
    forking.start()
    assert os.read(ready_in, 5) == b"ready"
    write_domain(domains_dir, "example.com", "second.example.com")
    os.write(go_out, b"!")
    forking.join(timeout=30)
    assert pid_status == [0]


def test_a_process_forked_from_the_master_does_not_follow(
    domains_dir: Path, reloader: Reloader, follower: Follower
) -> None:
    follower.follow_everywhere()  # what create_app does, before gunicorn's `when_ready`
    follower.follow_as_master(on_reloaded=lambda: None)
    assert len(reload_threads()) == 1  # the same thread, now with the callbacks

    def child() -> bool:
        before = reloader.snapshot
        write_domain(domains_dir, "example.com", "mail.example.com")
        time.sleep(1.0)  # five intervals: a follower would have reloaded by now
        return reload_threads() == [] and reloader.snapshot is before

    assert in_child(child) == 0
    assert wait_for(lambda: served_host(reloader) == "mail.example.com")  # the master's


def test_a_process_forked_after_stop_does_not_follow(
    domains_dir: Path, reloader: Reloader, follower: Follower
) -> None:
    follower.follow_everywhere()
    follower.stop()
    assert in_child(lambda: reload_threads() == []) == 0
