"""Through the shipped nginx (rendered unchanged) to the installed server and a real
slapd: users of one per-user domain asking at the same moment never wait for each
other (no cache lock held by an answer that is never stored), and never get each
other's login.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.directory import RunningDirectory
from tests.support.http import Reply
from tests.support.nginx import RunningNginx, https_request, run_nginx
from tests.support.paths import TEST_DATA
from tests.support.pki import LoopbackPKI, make_pki
from tests.support.server import RunningServer, run_server
from tests.support.thunderbird_reader import read_client_config

pytestmark = [
    pytest.mark.filterwarnings("ignore:tagMap is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:typeMap is deprecated:DeprecationWarning"),
]

HOST = "autoconfig.uni.example"
# zoe's uid is what the file's template gives (%EMAILLOCALPART%): her answer is the
# template, the very bytes an unknown address (ghost) gets
LOGINS = {"jane.doe": "jdoe", "max": "mmuster", "zoe": "%EMAILLOCALPART%",
          "ghost": "%EMAILLOCALPART%"}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, directory: RunningDirectory
) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    with run_server(TEST_DATA / "directory", log, env=directory.env()) as running:
        yield running


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, server: RunningServer
) -> Iterator[tuple[RunningNginx, LoopbackPKI]]:
    prefix = tmp_path_factory.mktemp("nginx")
    pki = make_pki(prefix / "pki", [HOST])
    with run_nginx(prefix, pki=pki, backends=[server.base.removeprefix("http://")]) as nginx:
        yield nginx, pki


def at_once(
    site: tuple[RunningNginx, LoopbackPKI], locals_: list[str]
) -> list[tuple[str, float, float, Reply]]:
    """One Thunderbird request per local part, all released together, each from its own
    loopback address (its own client for the rate limit): local part, start, end, reply."""
    nginx, pki = site
    results: list[tuple[str, float, float, Reply]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(locals_))

    def ask(index: int, local: str) -> None:
        barrier.wait()
        started = time.monotonic()
        reply = https_request(nginx.https_port, HOST,
                              f"/mail/config-v1.1.xml?emailaddress={local}@uni.example",
                              ca=pki.ca, source=f"127.0.0.{10 + index}")
        with lock:
            results.append((local, started, time.monotonic(), reply))

    threads = [threading.Thread(target=ask, args=(i, local)) for i, local in enumerate(locals_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def login_of(reply: Reply) -> str:
    assert reply.status == 200, reply.body
    return read_client_config(reply.body).incoming[0].username


def test_two_users_of_one_domain_answer_together_and_never_cross(
    site: tuple[RunningNginx, LoopbackPKI],
) -> None:
    spreads = []
    for pair in (["jane.doe", "max"], ["max", "zoe"], ["zoe", "ghost"], ["jane.doe", "ghost"],
                 ["max", "jane.doe"]):
        results = at_once(site, pair)
        assert sorted(local for local, *_ in results) == sorted(pair)
        for local, _, _, reply in results:
            assert login_of(reply) == LOGINS[local]
            assert reply.header("X-Cache-Status") == "MISS"
            assert reply.header("Cache-Control") == "private, no-store"
        spreads.append(abs(results[0][2] - results[1][2]))
    print(f"pairs: largest spread {1000 * max(spreads):.1f} ms")
    # under the old proxy_cache_lock the second waited for the lock's 500 ms poll
    assert max(spreads) < 0.1, spreads


def test_forty_users_at_once_wait_for_nobody(site: tuple[RunningNginx, LoopbackPKI]) -> None:
    locals_ = [list(LOGINS)[i % len(LOGINS)] for i in range(40)]
    results = at_once(site, locals_)
    for local, _, _, reply in results:
        assert login_of(reply) == LOGINS[local]
    slowest = max(end - started for _, started, end, _ in results)
    print(f"40 at once: slowest {1000 * slowest:.1f} ms")
    assert slowest < 0.5, slowest  # under the lock: up to 5 s (proxy_cache_lock_timeout)
