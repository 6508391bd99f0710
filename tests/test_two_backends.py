"""Behind the shipped nginx: stopping a replica, or workers of one, loses no request."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from tests.support.nginx import TEST_NAMES, https_request, run_nginx
from tests.support.paths import DOMAINS, TEST_DATA
from tests.support.pki import make_pki
from tests.support.server import run_server
from tests.support.system import require_program

# Outlook's request for alice@example.com, as the Autodiscover tests send it.
POX_REQUEST = (TEST_DATA / "autodiscover" / "requests" / "outlook-alice.xml").read_bytes()
# Requests nginx cannot answer from its cache, so each one reaches a replica.
REQUESTS = [
    ("POST", "autodiscover.example.com", "/autodiscover/autodiscover.xml", POX_REQUEST),
    ("GET", "autodiscover.example.com",
     "/autodiscover/autodiscover.json?Email=alice@example.com&Protocol=AutodiscoverV1", None),
    ("GET", "autoconfig.example.com", "/healthz", None),
]
LOOP_SECONDS = 6.0
STOP_AFTER = 1.5


def test_stopping_one_replica_loses_no_request(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", TEST_NAMES)
    outcomes: Counter[int] = Counter()
    failures: list[str] = []
    stop_loop = threading.Event()

    with (
        run_server(DOMAINS, tmp_path / "one.log") as one,
        run_server(DOMAINS, tmp_path / "two.log") as two,
        run_nginx(
            tmp_path / "nginx", pki=pki,
            backends=[one.base.removeprefix("http://"), two.base.removeprefix("http://")],
            overrides={"rate=10r/s": "rate=1000r/s"},
        ) as nginx,
    ):
        def loop() -> None:
            index = 0
            while not stop_loop.is_set():
                method, host, path, body = REQUESTS[index % len(REQUESTS)]
                index += 1
                headers = {"Content-Type": "text/xml"} if body else {}
                try:
                    reply = https_request(nginx.https_port, host, path, ca=pki.ca,
                                          method=method, headers=headers, body=body, timeout=5)
                    outcomes[reply.status] += 1
                    if reply.status != 200:
                        failures.append(f"{method} {path}: {reply.status} {reply.text[:200]}")
                except OSError as error:
                    failures.append(f"{method} {path}: {error!r}")

        workers = [threading.Thread(target=loop) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(STOP_AFTER)
            served_before_stop = sum(outcomes.values())
            one.process.terminate()  # systemctl stop: SIGTERM, graceful
            one.process.wait(timeout=30)
            time.sleep(LOOP_SECONDS - STOP_AFTER)
        finally:
            stop_loop.set()
            for worker in workers:
                worker.join(timeout=30)
        served_after_stop = sum(outcomes.values()) - served_before_stop
        two_log = two.log()

    assert not failures, failures[:10]
    assert served_before_stop > 0
    assert served_after_stop > 0
    assert outcomes == Counter({200: sum(outcomes.values())})
    # Both replicas really served: the loop went through the upstream, not a cache.
    assert "/autodiscover/autodiscover.xml" in one.log()
    assert "/autodiscover/autodiscover.xml" in two_log


def test_workers_stopped_under_load_lose_no_request_through_nginx(tmp_path: Path) -> None:
    """`kill PID` (SIGTERM) on a worker, four times while wrk POSTs through the shipped
    nginx: the worker finishes what it holds, gunicorn starts another, nothing fails.
    (SIGKILL loses the requests the worker held; see docs/benchmarks.md.)"""
    wrk = require_program("wrk", "wrk")
    pki = make_pki(tmp_path / "pki", TEST_NAMES)
    script = tmp_path / "pox.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "text/xml"\n'
        f"wrk.body = [[{POX_REQUEST.decode()}]]\n"
    )
    with (
        run_server(DOMAINS, tmp_path / "server.log") as server,
        run_nginx(tmp_path / "nginx", pki=pki, backends=[server.base.removeprefix("http://")],
                  overrides={"rate=10r/s": "rate=1000000r/s", "burst=20 ": "burst=100000 "},
                  workers=2) as nginx,
    ):
        url = f"https://127.0.0.1:{nginx.https_port}/autodiscover/autodiscover.xml"
        with subprocess.Popen(
            [str(wrk), "-t1", "-c16", "-d6s", "-s", str(script),
             "-H", "Host: autodiscover.example.com", url],
            stdout=subprocess.PIPE, text=True,
        ) as load:
            stopped = []
            for _ in range(4):
                time.sleep(1.0)
                pid = int(Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
                          .read_text().split()[0])
                os.kill(pid, signal.SIGTERM)
                stopped.append(pid)
            output, _ = load.communicate(timeout=60)
        log = server.log()
    served = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    assert served > 1000, output
    assert "Non-2xx" not in output, output
    assert "Socket errors" not in output, output
    for pid in stopped:
        assert f"Worker exiting (pid: {pid})" in log
