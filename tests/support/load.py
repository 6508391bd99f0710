"""Concurrent requests for a few seconds, each timed: what a client waits, not a rate.

Shared by the directory's latency tests and bench/directory.py. Each thread keeps one
request in flight at a time, on a new connection each (as separate clients do).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.http import Reply


@dataclass
class Timings:
    """Every request's status and seconds, and the replies a check refused."""

    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def worst(self) -> float:
        return max(self.seconds)

    def summary(self) -> str:
        return (f"{len(self.seconds)} requests, p50 {1000 * self.percentile(0.5):.1f} ms,"
                f" p99 {1000 * self.percentile(0.99):.1f} ms, worst {1000 * self.worst:.1f} ms")


def timed_load(
    send: Callable[[int], Reply], check: Callable[[int, Reply], str | None],
    threads: int, duration: float, max_requests: int = 100_000,
) -> Timings:
    """``send(n)`` (n: a number unique to the request) from ``threads`` threads for
    ``duration`` seconds; ``check`` returns why a reply is wrong, or None."""
    timings = Timings()
    lock = threading.Lock()
    counter = iter(range(max_requests))
    end = time.monotonic() + duration

    def worker() -> None:
        while time.monotonic() < end:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            started = time.monotonic()
            reply = send(number)
            seconds = time.monotonic() - started
            problem = check(number, reply)
            with lock:
                timings.seconds.append(seconds)
                timings.statuses.append(reply.status)
                if problem:
                    timings.refused.append(problem)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return timings
