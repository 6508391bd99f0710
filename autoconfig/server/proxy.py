"""Client address and scheme behind exactly one trusted reverse proxy (nginx).

nginx appends the address it saw to ``X-Forwarded-For`` and sets
``X-Forwarded-Proto``; werkzeug's ProxyFix takes the last entry. That is right
only when the request really came from the proxy: a client reaching gunicorn
directly could write any ``X-Forwarded-For`` it likes. So the headers are used
only when the peer is one of the configured proxy addresses (or a unix socket,
which only local processes with file permissions can reach, as gunicorn does).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

from autoconfig.address import Network

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

def _trusted(peer: str, proxies: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return True  # no IP address: a unix socket peer
    return any(address in network for network in proxies)


class TrustedProxyFix:
    """ProxyFix(x_for=1, x_proto=1) for requests from a trusted proxy; others untouched."""

    def __init__(self, app: WSGIApplication, proxies: Iterable[Network]) -> None:
        self._direct = app
        self._fixed = ProxyFix(app, x_for=1, x_proto=1)
        self._proxies = tuple(proxies)

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Hand the request on, with the proxy's view of the client if it came via one."""
        if _trusted(str(environ.get("REMOTE_ADDR") or ""), self._proxies):
            return self._fixed(environ, start_response)
        return self._direct(environ, start_response)
