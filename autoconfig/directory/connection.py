"""Connections to the directory: TLS always (LDAPS or StartTLS), verified, reused.

ldap3 (pure Python, see pyproject.toml) wraps its socket with Python's ``ssl`` module,
but its own ``Tls`` verifies nothing unless asked (``validate`` defaults to CERT_NONE),
turns the context's host name check off and matches names itself with
``ssl.match_hostname``, deprecated since Python 3.7 and gone in 3.12
(``ldap3/core/tls.py``). So the one method both LDAPS and StartTLS call,
``Tls.wrap_socket``, is replaced here by the standard library's own verification:
``ssl.create_default_context`` (CERT_REQUIRED, host name checked by OpenSSL, IP
addresses included) with the optional CA file.
"""

from __future__ import annotations

import math
import queue
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from autoconfig.distribution import LDAP_EXTRA
from autoconfig.settings import LdapSettings, SettingsError

MISSING_EXTRA = (
    "AUTOCONFIG_LDAP_URL is set, but LDAP support is not installed:"
    f" pip install '{LDAP_EXTRA}'"
)


def import_ldap3() -> Any:
    """The ldap3 module, or the one-line message that says how to install it."""
    try:
        import ldap3  # noqa: PLC0415 - optional dependency, imported only when configured
    except ImportError:
        raise SettingsError(MISSING_EXTRA) from None
    return ldap3


def _verified_tls(ldap3: Any, context: ssl.SSLContext, host: str) -> Any:
    """An ldap3 ``Tls`` whose handshake is ``context``'s, checking ``host``."""

    class VerifiedTls(ldap3.Tls):  # type: ignore[misc]
        def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
            connection.socket = context.wrap_socket(
                connection.socket,
                server_side=False,
                do_handshake_on_connect=do_handshake,
                server_hostname=host,
            )

    return VerifiedTls(validate=ssl.CERT_REQUIRED)


class ConnectionPool:
    """Up to ``pool_size`` bound connections kept open; one per concurrent lookup.

    A connection that failed in any way is closed, not returned, so the next lookup
    starts from a fresh connect, TLS handshake and bind.
    """

    def __init__(self, settings: LdapSettings) -> None:
        self._ldap3 = import_ldap3()
        self._settings = settings
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue(maxsize=settings.pool_size)
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        self._tls = _verified_tls(self._ldap3, context, settings.host)

    def _connect(self) -> Any:
        settings = self._settings
        # A new Server each time: ldap3's Server marks an address that refused a
        # connection as unusable ("invalid server address") and never tries it again.
        server = self._ldap3.Server(
            settings.host,
            port=settings.port,
            use_ssl=settings.use_ssl,
            tls=self._tls,
            get_info=self._ldap3.NONE,
            connect_timeout=settings.timeout,
        )
        connection = self._ldap3.Connection(
            server,
            user=settings.bind_dn,
            password=settings.bind_password,
            auto_bind=self._ldap3.AUTO_BIND_NONE,
            read_only=True,
            raise_exceptions=True,
            # whole seconds: ldap3 packs it into SO_RCVTIMEO as an integer
            receive_timeout=max(1, math.ceil(settings.timeout)),
        )
        try:
            connection.open()
            if not settings.use_ssl:
                connection.start_tls()
            connection.bind()
        except Exception:
            _close(connection)
            raise
        return connection

    @contextmanager
    def connection(self, *, fresh: bool = False) -> Iterator[Any]:
        """A bound connection for one search (``fresh``: a new one, not a pooled one);
        back to the pool only if all went well."""
        try:
            if fresh:
                raise queue.Empty
            connection = self._idle.get_nowait()
        except queue.Empty:
            connection = self._connect()
        try:
            yield connection
        except Exception:
            _close(connection)
            raise
        try:
            self._idle.put_nowait(connection)
        except queue.Full:
            _close(connection)

    def has_idle(self) -> bool:
        """Whether the next ``connection()`` is likely a pooled one (one opened earlier)."""
        return not self._idle.empty()

    def close(self) -> None:
        """Close every idle connection (tests, shutdown)."""
        while True:
            try:
                _close(self._idle.get_nowait())
            except queue.Empty:
                return


def _close(connection: Any) -> None:
    """Unbind, and close the socket whatever state the connection is in (a failed
    StartTLS leaves it open and unbound)."""
    with suppress(Exception):  # closing a broken connection may fail again; nothing to do
        connection.unbind()
    with suppress(Exception):
        if connection.socket is not None:
            connection.socket.close()
