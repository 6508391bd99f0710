"""Bounded latency with a directory that is stopped or hung (SIGSTOP: the kernel still
accepts connections, nothing ever answers): no lookup and no request takes longer than
AUTOCONFIG_LDAP_TIMEOUT plus a small margin, and when the back-off ends one request
per worker asks while the others answer from the template at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from autoconfig.address import parse_address
from autoconfig.directory import Directory, Person
from autoconfig.domains.records import DirectorySearch
from autoconfig.pox import NS_OUTLOOK_RESPONSE
from autoconfig.settings import Settings
from tests.support.directory import PEOPLE, RunningDirectory, hung, stopped
from tests.support.http import Reply, request
from tests.support.load import timed_load
from tests.support.paths import TEST_DATA
from tests.support.pox_requests import autodiscover_request
from tests.support.server import RunningServer, run_server

pytestmark = [
    pytest.mark.filterwarnings("ignore:tagMap is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:typeMap is deprecated:DeprecationWarning"),
]

SEARCH = DirectorySearch(PEOPLE, "(mail=%EMAILADDRESS%)", "uid", "displayName")
TIMEOUT = 1.0  # AUTOCONFIG_LDAP_TIMEOUT in these tests
# What a loaded two-core machine adds to the budget: thread hand-over, gunicorn, HTTP.
MARGIN = 0.3
NS = {"r": NS_OUTLOOK_RESPONSE}


def new_directory(running: RunningDirectory, retry_after: float, ldaps: bool) -> Directory:
    """StartTLS on the ldap:// port, or LDAPS on its own."""
    url = (f"ldaps://127.0.0.1:{running.ldaps_port}" if ldaps
           else f"ldap://127.0.0.1:{running.port}")
    settings = Settings.from_env(running.env(
        AUTOCONFIG_LDAP_URL=url, AUTOCONFIG_LDAP_TIMEOUT=str(TIMEOUT),
        AUTOCONFIG_LDAP_RETRY_AFTER=str(retry_after),
    )).ldap
    assert settings is not None
    return Directory(settings)


def concurrent_finds(found: Directory, count: int, prefix: str) -> list[tuple[float, object]]:
    """``count`` lookups of new addresses at once: each one's seconds and result."""
    results: list[tuple[float, object]] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def one(index: int) -> None:
        start.wait()
        began = time.monotonic()
        person = found.find(SEARCH, parse_address(f"{prefix}{index}@uni.example"))
        with lock:
            results.append((time.monotonic() - began, person))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("ldaps", [False, True], ids=["starttls", "ldaps"])
@pytest.mark.parametrize("fault", [hung, stopped], ids=["hung", "stopped"])
def test_no_lookup_exceeds_the_budget_and_one_probe_follows_the_back_off(
    directory: RunningDirectory, fault: object, ldaps: bool
) -> None:
    found = new_directory(directory, retry_after=1.0, ldaps=ldaps)
    try:
        # pooled connections first: a hung directory then hangs a pooled search, which
        # the old code retried on a fresh connection (twice the timeout)
        assert found.find(SEARCH, parse_address("jane.doe@uni.example")) == Person(
            "jdoe", "Jane Doe"
        )
        with fault(directory):  # type: ignore[operator]
            first = concurrent_finds(found, 12, "first")
            assert [person for _, person in first] == [None] * 12
            assert max(seconds for seconds, _ in first) < TIMEOUT + MARGIN
            time.sleep(1.1)  # the back-off has ended: the next requests meet
            after = sorted(seconds for seconds, _ in concurrent_finds(found, 8, "after"))
            # one probe (costing at most the budget); the seven others from the template
            assert after[-1] < TIMEOUT + MARGIN
            assert after[-2] < 0.1, after
        time.sleep(1.1)
        assert found.find(SEARCH, parse_address("max@uni.example")) == Person("mmuster", None)
    finally:
        found.close()


# --- the server under load ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, directory: RunningDirectory
) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = directory.env(AUTOCONFIG_LDAP_TIMEOUT=str(TIMEOUT), AUTOCONFIG_LDAP_RETRY_AFTER="1")
    with run_server(TEST_DATA / "directory", log, env=env, workers=2) as running:
        yield running


def pox(server: RunningServer, address: str) -> Reply:
    return request(server.base, "/autodiscover/autodiscover.xml", method="POST",
                   body=autodiscover_request(address), headers={"Content-Type": "text/xml"})


def template_login(number: int, reply: Reply) -> str | None:
    """None if the reply is a 200 with the template's login for request ``number``."""
    if reply.status != 200:
        return f"{number}: status {reply.status}"
    logins = etree.fromstring(reply.body).xpath("//r:LoginName/text()", namespaces=NS)
    return None if logins == [f"user{number}"] * 2 else f"{number}: {logins}"


@pytest.mark.parametrize("fault", [hung, stopped], ids=["hung", "stopped"])
def test_no_request_exceeds_the_budget_under_load(
    server: RunningServer, directory: RunningDirectory, fault: object, tmp_path: Path
) -> None:
    # warm: each worker holds pooled connections
    for index in range(6):
        assert pox(server, "jane.doe@uni.example").status == 200
        assert pox(server, f"warm{index}@uni.example").status == 200
    with fault(directory):  # type: ignore[operator]
        timings = timed_load(lambda n: pox(server, f"user{n}@uni.example"), template_login,
                             threads=8, duration=3.0)
    print(fault.__name__, timings.summary())  # type: ignore[attr-defined]
    assert timings.refused == []
    assert set(timings.statuses) == {200}
    assert len(timings.seconds) > 50
    assert timings.worst < TIMEOUT + MARGIN, timings.summary()
    # the budget is spent by the few requests that asked, not by everyone
    assert timings.percentile(0.5) < 0.1, timings.summary()
    time.sleep(1.1)
    assert pox(server, "max@uni.example").status == 200
    assert "Traceback" not in server.log()
