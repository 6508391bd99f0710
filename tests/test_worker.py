"""The gthread worker `autoconfig serve` runs spreads keep-alive connections over workers.

gunicorn's stock gthread worker takes every connection it can: with keep-alive clients
(wrk, nginx's upstream pool) one worker ended up holding nearly all of them, so one core
did the work (autoconfig/server/worker.py). Measured here on the real server: which
worker process holds each established connection, read from /proc.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from autoconfig.server.worker import REQUESTS_PER_CONNECTION
from tests.support.paths import DOMAINS
from tests.support.server import RunningServer, run_server
from tests.support.system import require_program

QUERY = "/mail/config-v1.1.xml?emailaddress=alice@example.com"
CONNECTIONS = 32


def workers_of(server: RunningServer) -> list[int]:
    pid = server.process.pid
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def established_on(port: int) -> set[int]:
    """Socket inodes of the server side of established TCP connections on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(int(fields[9]))
    return inodes


def connections_per_worker(server: RunningServer) -> dict[int, int]:
    port = urlsplit(server.base).port
    assert port is not None
    ours = established_on(port)
    counts = {}
    for pid in workers_of(server):
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except FileNotFoundError:  # closed meanwhile: connections come and go
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in ours:
                held += 1
        counts[pid] = held
    return counts


def test_concurrent_keep_alive_connections_are_spread_over_the_workers(tmp_path: Path) -> None:
    wrk = require_program("wrk", "wrk")
    with run_server(DOMAINS, tmp_path / "server.log", workers=2) as server, subprocess.Popen(
        [str(wrk), "-t1", f"-c{CONNECTIONS}", "-d4s", server.base + QUERY],
        stdout=subprocess.PIPE, text=True,
    ) as load:
        time.sleep(2)  # every connection open and busy
        counts = connections_per_worker(server)
        output, _ = load.communicate(timeout=30)
    assert load.returncode == 0
    assert "Socket errors" not in output and "Non-2xx" not in output, output
    # Some wait in the listening socket's queue for a worker with a free thread, or are
    # reconnecting (asked to, see below).
    held = sum(counts.values())
    assert CONNECTIONS // 2 <= held <= CONNECTIONS, counts
    # Stock gthread left 0 to 4 of the 32 to one of the two workers here.
    assert min(counts.values()) >= held // 4, counts


def test_a_keep_alive_connection_is_asked_to_reconnect_after_its_share(tmp_path: Path) -> None:
    with run_server(DOMAINS, tmp_path / "server.log", workers=1) as server:
        host = urlsplit(server.base)
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
        answers = []
        for _ in range(REQUESTS_PER_CONNECTION):
            connection.request("GET", QUERY)
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Connection")))
        connection.close()
    assert answers == [(200, "keep-alive")] * (REQUESTS_PER_CONNECTION - 1) + [(200, "close")]
