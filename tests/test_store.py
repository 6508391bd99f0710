"""The store as the app uses it: reading it starts nothing; following is asked for."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from autoconfig.domains.registry import NoValidDomainsError
from autoconfig.domains.store import ConfigStore
from tests.support.domain_files import served_host, write_domain


def test_reading_the_snapshot_and_generation_starts_no_thread(domains_dir: Path) -> None:
    threads = threading.active_count()
    store = ConfigStore(domains_dir, reload_interval=0.2)
    try:
        assert served_host(store) == "imap.example.com"
        assert store.generation == 1
        assert threading.active_count() == threads
        write_domain(domains_dir, "example.com", "mail.example.com")
        time.sleep(0.5)  # more than two intervals: no one is following
        assert served_host(store) == "imap.example.com"
        assert store.reload_if_changed()  # asked for, it reloads
        assert (served_host(store), store.generation) == ("mail.example.com", 2)
    finally:
        store.stop()


def test_follow_starts_one_thread_that_stop_ends(domains_dir: Path) -> None:
    threads = threading.active_count()
    store = ConfigStore(domains_dir, reload_interval=0.2)
    store.follow()
    try:
        assert threading.active_count() == threads + 1
        write_domain(domains_dir, "example.com", "mail.example.com")
        deadline = time.monotonic() + 10
        while served_host(store) != "mail.example.com" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (served_host(store), store.generation) == ("mail.example.com", 2)
    finally:
        store.stop()
    assert threading.active_count() == threads


def test_a_store_that_refuses_to_start_leaves_no_descriptor_open(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: [broken\n")
    before = sorted(os.listdir("/proc/self/fd"))
    with pytest.raises(NoValidDomainsError):
        ConfigStore(tmp_path, reload_interval=0.2)
    assert sorted(os.listdir("/proc/self/fd")) == before
