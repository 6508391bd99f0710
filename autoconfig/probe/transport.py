"""Bounded DNS, TCP, TLS and HTTP for ``autoconfig probe``: what a client does on the wire.

Every client module fetches through one ``Session``: it resolves names with the
project's ``Resolver`` (or the ``--resolve``/``--connect-to`` staging rules, as curl
reads them), verifies certificates like a client (system roots or ``--ca-file``),
sends only the headers given here (never ``Authorization``), follows no redirect by
itself, reads at most ``MAX_BODY_BYTES`` of a body and keeps an overall deadline.
Every failure becomes a ``StepError``: one line saying what went wrong and the fix.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

from cryptography import x509

from autoconfig.dns.query import DnsUnavailableError, Lookup, Resolver, txt_texts
from autoconfig.probe.deadline import Guard, guarded
from autoconfig.probe.suffix import is_public_suffix

MAX_BODY_BYTES = 256 * 1024  # a config or profile is a few kB
USER_AGENT = "autoconfig-probe"
MAX_NAMES_SHOWN = 6  # of a certificate that does not cover the host
# OpenSSL verify codes the messages name (x509_vfy.h).
_HOSTNAME_MISMATCH = 62
_EXPIRED = 10
_UNTRUSTED = (2, 18, 19, 20, 21)


class StepError(Exception):
    """One step of a discovery failed: ``message`` says what, ``fix`` what to change."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class TimeLimitError(StepError):
    """The overall time limit or this client's share is used up: its discovery ends here."""


class TimeoutStepError(StepError):
    """One connection ran out of time (connect, handshake or answer): the client gives up."""


class CertificateStepError(StepError):
    """The certificate check failed: the client shows the user a certificate error."""


@dataclass(frozen=True, slots=True)
class ConnectTo:
    """curl's ``--connect-to HOST1:PORT1:HOST2:PORT2``; an empty part matches / keeps any."""

    host: str
    port: int | None
    to_host: str
    to_port: int | None

    def matches(self, host: str, port: int) -> bool:
        """Whether a connection to ``host``:``port`` is redirected by this rule."""
        return (not self.host or self.host == host) and self.port in (None, port)


def _split_host_port(text: str) -> tuple[str, str]:
    """``host:port``, ``[v6]:port`` or ``:port`` -> (host, port text)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = text.partition(":")
    return host, port


def _port(text: str, what: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{what}: expected a port from 1 to 65535; got {text!r}")
    return int(text)


def parse_connect_to(text: str) -> ConnectTo:
    """``HOST1:PORT1:HOST2:PORT2`` (IPv6 in brackets), as curl's ``--connect-to``."""
    first, rest = _split_host_port(text)
    port1, _, second = rest.partition(":")
    if not second and ":" not in rest:
        raise ValueError(f"expected HOST1:PORT1:HOST2:PORT2; got {text!r}")
    host2, port2 = _split_host_port(second)
    return ConnectTo(first.lower().rstrip("."), _port(port1, text), host2.lower(),
                     _port(port2, text))


def parse_resolve(text: str) -> tuple[str, int, str]:
    """``HOST:PORT:ADDRESS``, as curl's ``--resolve``: the name is not asked in DNS."""
    host, _, rest = text.partition(":")
    port_text, _, address = rest.partition(":")
    port = _port(port_text, text)
    address = address.removeprefix("[").removesuffix("]")
    if not host or port is None or not address:
        raise ValueError(f"expected HOST:PORT:ADDRESS; got {text!r}")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"{text!r}: {address!r} is not an IP address") from None
    return host.lower().rstrip("."), port, address


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer: status, headers, body (at most MAX_BODY_BYTES)."""

    url: str
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str:
        """One header's value, or "" (names are case-insensitive)."""
        return str(self.headers.get(name) or "")

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return self.header("Content-Type").split(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class Sent:
    """One request as it left the probe (for ``--format json`` and the tests)."""

    client: str
    method: str
    url: str
    headers: dict[str, str]


@dataclass
class Session:
    """Shared by every client of one probe run: resolver, trust, staging, deadlines.

    The overall deadline is ``time_limit`` from the start; ``start_share`` gives the
    next client (or the mail-server checks) an equal part of what is left, so one
    hanging host cannot use up the time of every client after it.
    """

    resolver: Resolver
    cafile: Path | None = None
    connect_to: tuple[ConnectTo, ...] = ()
    resolve: dict[tuple[str, int], str] = field(default_factory=dict)
    time_limit: float = 60.0
    sent: list[Sent] = field(default_factory=list)
    nameserver: str | None = None

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.time_limit
        self.share_deadline = self.deadline
        self.share = self.time_limit
        self.context = ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)

    def start_share(self, parts: int) -> None:
        """The next part of the run gets 1/``parts`` of the time that is left."""
        left = max(0.0, self.deadline - time.monotonic())
        self.share = left / max(1, parts)
        self.share_deadline = time.monotonic() + self.share

    def remaining(self, timeout: float) -> float:
        """``timeout``, cut to what is left of this share and of the overall limit."""
        now = time.monotonic()
        if self.deadline - now <= 0:
            raise TimeLimitError(
                f"the probe's overall time limit of {self.time_limit:g} s is used up",
                "raise --time-limit, or look at the slow steps above")
        if self.share_deadline - now <= 0:
            raise TimeLimitError(
                f"its share of the time limit ({self.share:.1f} s of --time-limit"
                f" {self.time_limit:g}) is used up",
                "raise --time-limit, or look at the slow steps above")
        return min(timeout, self.share_deadline - now, self.deadline - now)

    def lookup(self, name: str, rdtype: str) -> list[str]:
        """Records of ``name`` as text; a dead resolver is a step error."""
        return [r.to_text() for r in self._answer(name, rdtype).records]

    def txt(self, name: str) -> list[str]:
        """TXT records of ``name``, each one text (its character-strings joined)."""
        return txt_texts(self._answer(name, "TXT"))

    def _bounded_resolver(self) -> Resolver:
        """The resolver, or one whose timeout ends with this share when less is left."""
        left = self.remaining(self.resolver.timeout)
        if left >= self.resolver.timeout:
            return self.resolver
        return Resolver(self.nameserver, timeout=max(0.1, round(left, 1)))

    def _answer(self, name: str, rdtype: str) -> Lookup:
        try:
            return self._bounded_resolver().lookup(name, rdtype)
        except DnsUnavailableError as error:
            raise StepError(f"DNS: {error}", "check the resolver (--nameserver)") from None

    def addresses(self, name: str, port: int) -> list[tuple[str, int]]:
        """Where a connection to ``name``:``port`` goes, after the staging rules and DNS."""
        target, target_port = name, port
        for rule in self.connect_to:
            if rule.matches(name, port):
                target, target_port = rule.to_host or name, rule.to_port or port
                break
        staged = self.resolve.get((target, target_port))
        if staged is not None:
            return [(staged, target_port)]
        try:
            ipaddress.ip_address(target)
        except ValueError:
            pass
        else:
            return [(target, target_port)]
        try:
            a = self._bounded_resolver().lookup(target, "A")
            found = [str(r) for r in a.records]
            if a.exists:
                found += [str(r) for r in self._bounded_resolver().lookup(target, "AAAA").records]
        except DnsUnavailableError as error:
            raise StepError(f"DNS: {error}", "check the resolver (--nameserver)") from None
        if not a.exists:
            raise StepError(f"{target} does not exist in DNS (NXDOMAIN)",
                            f"publish an A/AAAA record or a CNAME for {target}")
        if not found:
            raise StepError(f"{target} has no A or AAAA record",
                            f"publish an A/AAAA record or a CNAME for {target}")
        return [(address, target_port) for address in found]

    def connect(self, host: str, port: int, guard: Guard, service: str) -> socket.socket:
        """A TCP connection to ``host``:``port`` (``service`` names the server in fixes)."""
        last: StepError | None = None
        for address, target_port in self.addresses(host, port):
            try:
                return guard.watch(socket.create_connection((address, target_port),
                                                            guard.left()))
            except ConnectionRefusedError:
                last = StepError(f"{host} ({address}) refused the connection to port"
                                 f" {target_port}",
                                 f"make the {service} listen on port {port} for {host}")
            except (TimeoutError, OSError) as error:
                if guard.expired or isinstance(error, TimeoutError):
                    raise TimeoutStepError(
                        f"{host} ({address}) port {target_port}: no connection in time",
                        f"open port {port} for {host} in the firewall") from None
                last = StepError(f"{host} ({address}) port {target_port}: {error.strerror}",
                                 f"make {host} reachable on port {port}")
        assert last is not None  # noqa: S101 - addresses() never returns an empty list
        raise last

    def certificate_names(self, host: str, port: int, service: str) -> list[str]:
        """The DNS names of the certificate ``host`` serves (read without verifying it)."""
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        try:
            with (guarded(time.monotonic() + self.remaining(5.0)) as guard,
                  self.connect(host, port, guard, service) as raw,
                  unverified.wrap_socket(raw, server_hostname=host) as tls):
                der = tls.getpeercert(binary_form=True)
        except (OSError, ssl.SSLError, StepError):
            return []
        return san_names(der) if der else []

    def tls(self, raw: socket.socket, host: str, guard: Guard, fix: str,
            names: Callable[[], list[str]] | None = None) -> ssl.SSLSocket:
        """The TLS handshake on ``raw``, the certificate checked as a client checks it.

        ``fix`` is the advice for a server that does not speak TLS; ``names`` reads the
        certificate's names for a host name mismatch (a second, unverified connection).
        """
        try:
            return cast(ssl.SSLSocket,
                        guard.watch(self.context.wrap_socket(raw, server_hostname=host)))
        except ssl.SSLCertVerificationError as error:
            raw.close()
            raise certificate_error(host, error, names) from None
        except (ssl.SSLError, OSError) as error:
            raw.close()
            if guard.expired or isinstance(error, TimeoutError):
                raise TimeoutStepError(f"{host}: no TLS handshake in time",
                                       "make the server answer faster (clients give up)") from None
            reason = getattr(error, "reason", None) or str(error)
            raise StepError(f"no TLS with {host}: {reason}", fix) from None

    def request(self, client: str, method: str, url: str, *, timeout: float,
                headers: dict[str, str] | None = None, body: bytes | None = None) -> Response:
        """One request, no redirect followed; StepError for anything but an HTTP answer.

        The whole request (DNS, connect, handshake, sending, reading) ends by
        ``timeout`` or the end of this share, whichever is first.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise StepError(f"{url!r} is not an http(s) URL", "publish an https URL")
        if is_public_suffix(host):
            raise StepError(f"not sent: {host} is a public suffix (a registry, not the"
                            " provider)", "publish a URL under the provider's own domain")
        sent = {"Host": parts.netloc, "User-Agent": USER_AGENT, "Accept": "*/*",
                "Connection": "close", **(headers or {})}
        if any(key.lower() in ("authorization", "cookie") for key in sent):
            raise ValueError("the probe never sends credentials")
        with guarded(time.monotonic() + self.remaining(timeout)) as guard:
            return self._exchange(client, method, url, sent, body=body, guard=guard)

    def _exchange(self, client: str, method: str, url: str, sent: dict[str, str], *,
                  body: bytes | None, guard: Guard) -> Response:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        sock = self.connect(host, port, guard, "web server")
        if parts.scheme == "https":
            sock = self.tls(sock, host, guard,
                            f"make the web server answer https for {host} on port {port}",
                            lambda: self.certificate_names(host, port, "web server"))
        self.sent.append(Sent(client, method, url, dict(sent)))
        connection = http.client.HTTPConnection(host, port, timeout=guard.left())
        connection.sock = sock
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, target, body=body, headers=sent)
            answer = connection.getresponse()
            data = answer.read(MAX_BODY_BYTES)
            if guard.expired:
                raise TimeoutError
            return Response(url, answer.status, answer.headers, data)
        except (TimeoutError, http.client.HTTPException, ssl.SSLError, OSError) as error:
            if guard.expired or isinstance(error, TimeoutError):
                raise TimeoutStepError(
                    f"{host} sent no complete answer within"
                    f" {guard.deadline - guard.started:.1f} s",
                    "make the server answer faster (clients give up)") from None
            raise StepError(f"{host} broke off the answer: {error or type(error).__name__}",
                            "check the web server's error log") from None
        finally:
            connection.close()


def san_names(der: bytes) -> list[str]:
    """The DNS names in a DER certificate's subjectAltName."""
    certificate = x509.load_der_x509_certificate(der)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in san.value.get_values_for_type(x509.DNSName)]


def certificate_error(host: str, error: ssl.SSLCertVerificationError,
                      names: Callable[[], list[str]] | None) -> StepError:
    """What a failed certificate check means to a client, and its fix."""
    if error.verify_code == _HOSTNAME_MISMATCH and names is None:
        return CertificateStepError(f"the certificate of {host} does not name {host}",
                                    f"get a certificate that also names {host}")
    if error.verify_code == _HOSTNAME_MISMATCH:
        found = names() if names else []
        shown = ", ".join(found[:MAX_NAMES_SHOWN]) if found else "no DNS name"
        if len(found) > MAX_NAMES_SHOWN:
            shown += f" and {len(found) - MAX_NAMES_SHOWN} more"
        return CertificateStepError(f"the certificate of {host} names {shown}, not {host}",
                                    f"get a certificate that also names {host}")
    if error.verify_code == _EXPIRED:
        return CertificateStepError(f"the certificate of {host} has expired",
                                    f"renew the certificate of {host}")
    if error.verify_code in _UNTRUSTED:
        return CertificateStepError(
            f"the certificate of {host} is not trusted ({error.verify_message})",
            "serve the full chain (with intermediates) of a certificate from a public"
            " CA (--ca-file for a staging CA)")
    return CertificateStepError(f"the certificate of {host} is not valid:"
                                f" {error.verify_message}",
                                f"get a valid certificate for {host}")
