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
import os
import queue
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from autoconfig.directory.failures import DirectoryFailure, opening_failure, search_failure
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
    starts from a fresh connect, TLS handshake and bind. Idle connections belong to the
    process that opened them: a forked worker starts with none, never sharing its
    master's TLS session.
    """

    def __init__(self, settings: LdapSettings) -> None:
        self._ldap3 = import_ldap3()
        self._settings = settings
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue(maxsize=settings.pool_size)
        self._pid = os.getpid()
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        self._tls = _verified_tls(self._ldap3, context, settings.host)

    def _connect(self) -> Any:
        """A new bound connection, or a ``DirectoryFailure`` saying which step failed."""
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
        step = "connect"
        try:
            connection.open()
            if not settings.use_ssl:
                step = "starttls"
                connection.start_tls()
            step = "bind"
            connection.bind()
        except Exception as error:
            _close(connection)
            raise opening_failure(self._ldap3, error, step) from None
        return connection

    def _own_idle(self) -> queue.LifoQueue[Any]:
        """The idle connections of this process (none right after a fork)."""
        if self._pid != os.getpid():
            self._idle = queue.LifoQueue(maxsize=self._settings.pool_size)
            self._pid = os.getpid()
        return self._idle

    @contextmanager
    def connection(self, *, fresh: bool = False) -> Iterator[Any]:
        """A bound connection for one search (``fresh``: a new one, not a pooled one);
        back to the pool only if all went well. A search failure that is one file's
        (``DirectoryFailure`` of kind configuration) leaves the connection usable."""
        idle = self._own_idle()
        try:
            if fresh:
                raise queue.Empty
            connection = idle.get_nowait()
        except queue.Empty:
            connection = self._connect()
        try:
            yield connection
        except DirectoryFailure as failure:
            if failure.endpoint:
                _close(connection)
            else:
                self._put_back(idle, connection)
            raise
        except BaseException:
            _close(connection)
            raise
        self._put_back(idle, connection)

    @staticmethod
    def _put_back(idle: queue.LifoQueue[Any], connection: Any) -> None:
        try:
            idle.put_nowait(connection)
        except queue.Full:
            _close(connection)

    def has_idle(self) -> bool:
        """Whether the next ``connection()`` is likely a pooled one (one opened earlier)."""
        return not self._own_idle().empty()

    def try_bind(self, bases: Iterable[str] = ()) -> dict[str, str]:
        """Connect, secure and bind once, on a connection that is closed at once (never
        pooled: ``serve`` calls this in the master, before the workers fork); then read
        each of ``bases`` itself (a base-scope search, RFC 4511 section 4.5.1.2). What is
        wrong with each base that fails, by base; a ``DirectoryFailure`` if the endpoint
        does."""
        connection = self._connect()
        problems: dict[str, str] = {}
        try:
            for base in bases:
                try:
                    connection.search(
                        base, "(objectClass=*)", search_scope=self._ldap3.BASE,
                        attributes=["1.1"], size_limit=1,
                    )
                except Exception as error:  # classified: the endpoint's or this base's
                    failure = search_failure(self._ldap3, error)
                    if failure.endpoint:
                        raise failure from None
                    problems[base] = failure.detail
        finally:
            _close(connection)
        return problems

    def close(self) -> None:
        """Close every idle connection (tests, shutdown)."""
        idle = self._own_idle()
        while True:
            try:
                _close(idle.get_nowait())
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
