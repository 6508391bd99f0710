"""Benchmark: the image's memory at rest and under concurrent clients, and its size.

Run from the repository root after `make image` (podman; the shipped containers.conf):

    .venv/bin/python -m bench.container [--image localhost/autoconfig:latest] [--connections 16]

Starts the image as docs/operating.md does (read-only root, 2 workers, the bundled
domains/), on a free loopback port with the host's network. Memory is the sum over the
container's processes (the gunicorn master and its workers) of RSS and PSS, read from
/proc/PID/smaps_rollup, and the cgroup's usage (`podman stats`): at rest after start,
then the peak while CONNECTIONS clients send REQUESTS requests, the four kinds in turn
(Thunderbird, Autodiscover POX, the page in a language, an Apple profile). A benchmark,
not a test (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.http import free_port, request
from tests.support.paths import DOMAINS, TEST_DATA
from tests.support.podman import logs, podman
from tests.support.system import wait_for

POX = (TEST_DATA / "autodiscover" / "requests" / "outlook-alice.xml").read_bytes()


def memory(name: str) -> tuple[int, int]:
    """RSS and PSS in KiB, summed over the container's processes."""
    rss = pss = 0
    for pid in podman("top", name, "hpid").stdout.split()[1:]:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            field, _, value = line.partition(":")
            if field == "Rss":
                rss += int(value.split()[0])
            elif field == "Pss":
                pss += int(value.split()[0])
    return rss, pss


def cgroup(name: str) -> str:
    """The container's memory as podman stats shows it (the cgroup's, page cache included)."""
    return podman("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout.strip()


def one(base: str, number: int) -> int:
    """One request of the four kinds, by ``number``; its status."""
    kind = number % 4
    if kind == 0:
        return request(base, "/mail/config-v1.1.xml?emailaddress=alice@example.com").status
    if kind == 1:
        return request(base, "/Autodiscover/Autodiscover.xml", method="POST", body=POX,
                       headers={"Content-Type": "text/xml"}).status
    if kind == 2:
        return request(base, f"/?emailaddress=erin@example.net&lang={('de', 'ja')[number % 2]}"
                       ).status
    return request(base, "/apple/profile.mobileconfig?emailaddress=dave@example.com").status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--image", default="localhost/autoconfig:latest")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=4000)
    args = parser.parse_args()
    size = int(podman("image", "inspect", "--format", "{{.Size}}", args.image).stdout)
    print(f"image {args.image}: {size / 1e6:.0f} MB")
    port = free_port()
    name = f"autoconfig-bench-{port}"
    podman("run", "--detach", "--name", name, "--read-only", "--network", "host",
           "--env", f"AUTOCONFIG_BIND=127.0.0.1:{port}",
           "--volume", f"{DOMAINS}:/etc/autoconfig/domains:ro", args.image)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: "Listening at:" in logs(name), 30, 0.3), logs(name)
        time.sleep(3)  # the workers have booted
        for number in range(4):  # each kind once, as a first visitor would
            one(base, number)
        rss, pss = memory(name)
        print(f"at rest: RSS {rss / 1024:.0f} MiB, PSS {pss / 1024:.0f} MiB, "
              f"cgroup {cgroup(name)}")
        peak = [rss, pss]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                now = memory(name)
                peak[0], peak[1] = max(peak[0], now[0]), max(peak[1], now[1])
                time.sleep(0.1)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.monotonic()
        with ThreadPoolExecutor(args.connections) as pool:
            statuses = list(pool.map(lambda n: one(base, n), range(args.requests)))
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        assert statuses == [200] * args.requests, "a request failed"
        print(f"{args.requests} requests from {args.connections} clients in {elapsed:.1f} s "
              f"({args.requests / elapsed:.0f}/s): peak RSS {peak[0] / 1024:.0f} MiB, "
              f"peak PSS {peak[1] / 1024:.0f} MiB; cgroup after: {cgroup(name)}")
    finally:
        podman("rm", "--force", name, check=False)


if __name__ == "__main__":
    main()
