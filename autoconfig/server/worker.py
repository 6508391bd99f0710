"""gunicorn's gthread worker, taking a new connection only while it has a thread free.

gunicorn's workers share one listening socket, and the kernel hands each new connection
to whichever worker asks first. With keep-alive that choice sticks: measured on loopback
(2 workers x 4 threads, wrk with 32 keep-alive connections), one worker held 28 to all
32 connections, so one process (one core: the GIL) answered nearly everything, and
throughput swung between runs with the split. nginx's pool of upstream connections is
such a keep-alive client too.

This worker stops asking for connections while all its threads are busy, so the other
workers take them; and it asks a client to reconnect (``Connection: close``, RFC 9112
section 9.6) after ``REQUESTS_PER_CONNECTION`` requests, so the connections keep
spreading as load moves. A worker busy for longer than ``SATURATED`` asks again as
gthread does: with more clients than threads everywhere (256 connections for 2 x 4
threads), waiting for a free thread left connections unanswered for seconds. A thread
waiting for an MX lookup still blocks only itself.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# One reconnect per hundred requests: a loopback connect costs tens of microseconds.
REQUESTS_PER_CONNECTION = 100
# Busy this long: every worker is, so take connections as they come (no one is idle).
SATURATED = 0.05


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """``gthread`` that leaves new connections to workers with a free thread."""

    _busy_since: float | None = None

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Listen for new connections only with a thread free, then wait as gthread does.

        A stopping worker (also called here while it finishes) never listens again.
        """
        if self.alive:
            idle = len(self.keepalived_conns) + len(self.pending_conns)
            free = self.nr_conns - idle < self.cfg.threads
            now = time.monotonic()
            if free:
                self._busy_since = None
            elif self._busy_since is None:
                self._busy_since = now
            saturated = self._busy_since is not None and now - self._busy_since > SATURATED
            self.set_accept_enabled(
                self.nr_conns < self.worker_connections and (free or saturated)
            )
        super().wait_for_and_dispatch_events(timeout)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """Serve as gthread does; past the connection's share, close it afterwards."""
        served = getattr(conn, "autoconfig_requests", 0) + 1
        conn.autoconfig_requests = served
        if served >= REQUESTS_PER_CONNECTION:
            req.must_close = True  # the response says Connection: close
        return super().handle_request(req, conn)
