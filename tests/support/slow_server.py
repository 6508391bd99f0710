"""A server that answers one byte at a time, for ever: the probe's time limits meet it.

It accepts on 127.0.0.1, completes the TLS handshake when given a certificate (so
the client gets as far as reading the answer), reads the request and then sends an
HTTP answer one byte every ``interval`` seconds, never finishing. A per-read
timeout never fires against it; only a deadline on the whole exchange does.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000000\r\n\r\n"


@dataclass
class Dribbler:
    """Where it listens, and how many connections it has seen."""

    port: int = 0
    connections: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)


def _dribble(conn: socket.socket, stop: threading.Event, interval: float) -> None:
    with suppress(OSError), conn:
        conn.settimeout(interval * 10)
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        body = ANSWER + b"<" * 1000000
        for byte in body:
            if stop.wait(interval):
                return
            conn.sendall(bytes([byte]))


@contextmanager
def dribbling_server(cert: Path | None = None, key: Path | None = None,
                     interval: float = 1.0) -> Iterator[Dribbler]:
    """Serve until the block ends; every connection gets its own dribbling thread."""
    context = None
    if cert is not None and key is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    dribbler = Dribbler()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    dribbler.port = listener.getsockname()[1]

    def accept() -> None:
        while not dribbler.stopped.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            dribbler.connections += 1
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()

    def _serve(conn: socket.socket) -> None:
        if context is not None:
            try:
                conn.settimeout(10)
                conn = context.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
        _dribble(conn, dribbler.stopped, interval)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield dribbler
    finally:
        dribbler.stopped.set()
        thread.join(timeout=5)
        listener.close()
