"""What went wrong with a directory, in the few kinds an operator acts on differently.

The kind decides who pays for a failure. A connection, TLS, timeout or bind failure is
the endpoint's (the server, the network, the service account): every domain's lookups
back off together. A configuration failure belongs to one domain file's search (a
base that does not exist, an invalid DN or filter, a search the service account may
not make): that file's users get its template, and no other domain notices.
"""

from __future__ import annotations

import socket
import ssl
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """A failure's kind; also the ``kind`` label of ``autoconfig_directory_errors``."""

    CONNECTION = "connection"  # refused, reset, unreachable, the server busy or unavailable
    TLS = "tls"  # handshake, certificate or host name check, StartTLS refused
    TIMEOUT = "timeout"  # no answer within the lookup's time budget
    BIND = "bind"  # the service account's DN or password refused
    CONFIGURATION = "configuration"  # one domain file's search cannot work as written


ENDPOINT_KINDS = frozenset({Kind.CONNECTION, Kind.TLS, Kind.TIMEOUT, Kind.BIND})

# LDAP result codes (RFC 4511 section 4.1.9, appendix A) that say the server cannot
# serve anyone right now, not that this search is wrong.
_SERVER_DOWN_RESULTS = frozenset({51, 52})  # busy, unavailable
_TIME_RESULTS = frozenset({3})  # timeLimitExceeded


class DirectoryFailure(Exception):
    """A failed connection, bind or search, with its kind and a text safe to log (it
    names classes and result codes, never the bind password)."""

    def __init__(self, kind: Kind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def endpoint(self) -> bool:
        """Whether the whole endpoint is failing (not one file's search)."""
        return self.kind in ENDPOINT_KINDS


def _detail(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _timed_out(error: BaseException) -> bool:
    return isinstance(error, (TimeoutError, socket.timeout)) or "timed out" in str(error)


def _tls(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, ssl.SSLError) or "ssl" in text or "certificate" in text


def opening_failure(ldap3: Any, error: BaseException, step: str) -> DirectoryFailure:
    """The failure of ``step`` (``connect``, ``starttls`` or ``bind``) of opening a
    connection: always the endpoint's."""
    exceptions = ldap3.core.exceptions
    if _timed_out(error) or isinstance(error, exceptions.LDAPResponseTimeoutError):
        kind = Kind.TIMEOUT
    elif step == "starttls" or _tls(error) or isinstance(error, exceptions.LDAPStartTLSError):
        kind = Kind.TLS
    elif step == "bind" and isinstance(error, exceptions.LDAPOperationResult):
        kind = (
            Kind.CONNECTION if getattr(error, "result", None) in _SERVER_DOWN_RESULTS
            else Kind.BIND
        )
    else:
        kind = Kind.CONNECTION
    return DirectoryFailure(kind, _detail(error))


def search_failure(ldap3: Any, error: BaseException) -> DirectoryFailure:
    """The failure of a search on an open, bound connection."""
    exceptions = ldap3.core.exceptions
    if _timed_out(error) or isinstance(error, exceptions.LDAPResponseTimeoutError):
        return DirectoryFailure(Kind.TIMEOUT, _detail(error))
    if isinstance(error, (exceptions.LDAPCommunicationError, OSError)):
        return DirectoryFailure(Kind.CONNECTION, _detail(error))
    if isinstance(error, exceptions.LDAPOperationResult):
        code = getattr(error, "result", None)
        if code in _SERVER_DOWN_RESULTS:
            return DirectoryFailure(Kind.CONNECTION, _detail(error))
        if code in _TIME_RESULTS:
            return DirectoryFailure(Kind.TIMEOUT, _detail(error))
    # noSuchObject, invalidDNSyntax, an invalid filter, insufficientAccessRights …: the
    # server answered, and said this search cannot work
    return DirectoryFailure(Kind.CONFIGURATION, _detail(error))
