"""A tiny HTTP client for tests: exact methods, headers (Host!) and raw bodies."""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from email.message import Message


@dataclass(frozen=True)
class Reply:
    """What the server answered."""

    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        """One header's value (case-insensitive), or None."""
        return self.headers.get(name)

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8")


def request(
    base: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """Send one request to ``base`` (``http://127.0.0.1:PORT``) and read the whole reply."""
    host_port = base.removeprefix("http://").rstrip("/")
    host, _, port = host_port.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    return send(connection, method, path, {"Host": host_port, **(headers or {})}, body)


def send(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
) -> Reply:
    """Send exactly these headers (Host included) over ``connection``, then close it."""
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if body is not None and "Content-Length" not in headers:
            headers = {**headers, "Content-Length": str(len(body))}
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
