"""A hard deadline on one connection: connect, TLS handshake, every read and write.

A socket timeout bounds each single ``recv``; a server that sends one byte just
before each timeout would keep a read (or a TLS handshake, or http.client's line
reading) going for ever. ``Guard`` arms a timer that shuts the socket down at the
deadline, which ends any blocked call at once; ``expired`` then tells the caller
that the error it sees (an EOF, a reset, a short body) is the deadline's doing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class Guard:
    """Shuts down the socket it watches when the deadline passes."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.started = time.monotonic()
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket) -> socket.socket:
        """Watch ``sock`` (a TLS socket replaces the plain one it wraps); returns it."""
        with self._lock:
            self._sock = sock
        sock.settimeout(self.left())
        return sock

    def left(self) -> float:
        """Seconds until the deadline (a small positive floor: a timeout of 0 means
        non-blocking to the socket module)."""
        return max(0.01, self.deadline - time.monotonic())

    def expire(self) -> None:
        """The deadline has passed: end whatever the socket is doing."""
        with self._lock:
            self.expired = True
            if self._sock is not None:
                with suppress(OSError):  # already closed or never connected
                    self._sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def guarded(deadline: float) -> Iterator[Guard]:
    """A ``Guard`` for the block; its timer is stopped when the block ends."""
    guard = Guard(deadline)
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), guard.expire)
    timer.daemon = True
    timer.start()
    try:
        yield guard
    finally:
        timer.cancel()
