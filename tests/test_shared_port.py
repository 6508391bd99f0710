"""Two servers on one port (``AUTOCONFIG_SO_REUSEPORT``), as replicas on a host network.

Both installed servers listen on one loopback address; fresh connections are spread over
them by the kernel. Each reload replaces a server's workers; since the workers share
their master's listening socket, no connection waiting in a queue is reset then (with a
socket per worker, gunicorn's own ``reuse_port``, every replaced worker reset the
connections waiting on it).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.support.domain_files import write_domain
from tests.support.http import free_port, request
from tests.support.installed import decoy_directory, installed_command
from tests.support.system import wait_for

QUERY = "/mail/config-v1.1.xml?emailaddress=alice@shared.example"


@contextmanager
def serving(domains: Path, port: int, log: Path) -> Iterator[Path]:
    env = {**os.environ, "AUTOCONFIG_SO_REUSEPORT": "true", "AUTOCONFIG_RELOAD_INTERVAL": "0.2",
           "AUTOCONFIG_CACHE_DIR": str(log.with_suffix(".cache"))}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(installed_command()), "serve", "--bind", f"127.0.0.1:{port}",
             "--domains", str(domains), "--workers", "2"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=decoy_directory())
    try:
        assert wait_for(lambda: log.read_text().count("Booting worker") >= 2, timeout=30), \
            log.read_text()
        yield log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_two_servers_share_a_port_and_reloads_reset_no_connection(tmp_path: Path) -> None:
    domains = tmp_path / "domains"
    domains.mkdir()
    write_domain(domains, "shared.example", "imap0.shared.example")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        logs = [stack.enter_context(serving(domains, port, tmp_path / f"server{i}.log"))
                for i in (1, 2)]
        outcomes: Counter[int | str] = Counter()
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():  # a fresh connection each time, as the kernel spreads them
                try:
                    outcomes[request(base, QUERY).status] += 1
                except OSError as error:
                    outcomes[type(error).__name__] += 1

        clients = [threading.Thread(target=client) for _ in range(4)]
        for thread in clients:
            thread.start()
        for edit in range(1, 6):  # five reloads, each replacing both servers' workers
            time.sleep(1)
            write_domain(domains, "shared.example", f"imap{edit}.shared.example")
            assert wait_for(lambda edit=edit: all(  # type: ignore[misc]
                log.read_text().count("serving 1 domains from 1 files") == edit + 1
                for log in logs), timeout=15)
        time.sleep(1)
        stop.set()
        for thread in clients:
            thread.join(timeout=30)
    assert outcomes[200] > 500
    assert outcomes == Counter({200: outcomes[200]}), outcomes
    for log in logs:  # both servers answered
        assert log.read_text().count('"GET /mail/config-v1.1.xml" 200') > 50
