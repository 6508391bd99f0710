"""Two gunicorn replicas behind the shipped nginx: stopping one loses no request."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

from tests.support.nginx import TEST_NAMES, https_request, run_nginx
from tests.support.paths import DOMAINS, TEST_DATA
from tests.support.pki import make_pki
from tests.support.server import run_server

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
