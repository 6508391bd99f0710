"""Real Dovecot (IMAP, POP3) and Postfix (submission) on 127.0.0.1, from a temp config.

Each instance runs from its own directory (Dovecot: ``dovecot -c``; Postfix: its own
``config_directory``, queue and data directories, started with ``postfix -c DIR
start``) on free high ports, with certificates from the test CA. Debian's packages
are installed when we are root (tests/support/system.py). The directory must be
traversable by the servers' unprivileged users (dovenull, postfix), so it is made
here with mode 0755 rather than under pytest's private tmp directory.

Passwords exist only so the servers start: the probe never logs in.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.http import free_port
from tests.support.system import require_file, require_program

START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Certificate:
    """A certificate chain file and its key file."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Dovecot:
    """One running Dovecot: its four listeners and its SASL socket for Postfix."""

    imap: int  # STARTTLS (or plain when tls=False)
    imaps: int  # implicit TLS (0 when tls=False)
    pop3: int
    pop3s: int
    auth_socket: Path
    log: Path


@dataclass(frozen=True)
class Postfix:
    """One running Postfix: submissions (implicit TLS) and submission (STARTTLS)."""

    submissions: int
    submission: int
    log: Path


@contextmanager
def server_directory(prefix: str) -> Iterator[Path]:
    """A directory the servers' unprivileged users can traverse; removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def require_root(what: str) -> None:
    """Postfix's master (and this Dovecot set-up) start as root and drop privileges."""
    if os.geteuid() == 0:
        return
    message = f"{what} needs root to start (its master drops privileges itself)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI must run this test, not skip it)")
    pytest.skip(message)


def _wait_for_ports(ports: list[int], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    text = log.read_text(errors="replace") if log.exists() else "(no log)"
                    raise AssertionError(f"port {port} did not open:\n{text}") from None
                time.sleep(0.1)


def _dovecot_config(directory: Path, certificate: Certificate, ports: dict[str, int], *,
                    tls: bool, mechanisms: str, sni: dict[str, Certificate]) -> str:
    listeners = {
        "imap-login": [("imap", ports["imap"], False), ("imaps", ports["imaps"], True)],
        "pop3-login": [("pop3", ports["pop3"], False), ("pop3s", ports["pop3s"], True)],
    }
    services = []
    for service, entries in listeners.items():
        lines = [f"service {service} {{"]
        for name, port, implicit in entries:
            if implicit and not tls:
                continue
            lines += [f"  inet_listener {name} {{", f"    port = {port}",
                      *(["    ssl = yes"] if implicit else []), "  }"]
        services.append("\n".join([*lines, "}"]))
    ssl = [f"ssl = {'yes' if tls else 'no'}"]
    if tls:
        ssl += [f"ssl_cert = <{certificate.cert}", f"ssl_key = <{certificate.key}"]
        for name, other in sni.items():
            ssl += [f"local_name {name} {{", f"  ssl_cert = <{other.cert}",
                    f"  ssl_key = <{other.key}", "}"]
    return "\n".join([
        f"base_dir = {directory}/run",
        f"state_dir = {directory}/state",
        f"log_path = {directory}/dovecot.log",
        "protocols = imap pop3",
        "listen = 127.0.0.1",
        *ssl,
        f"disable_plaintext_auth = {'yes' if tls else 'no'}",
        f"auth_mechanisms = {mechanisms}",
        "passdb {", "  driver = static", "  args = password=only-so-the-server-starts", "}",
        "userdb {", "  driver = static",
        f"  args = uid=nobody gid=nogroup home={directory}/home", "}",
        f"mail_location = maildir:{directory}/mail",
        *services,
        # The socket Postfix asks for SASL (smtpd_sasl_type = dovecot).
        "service auth {", "  unix_listener auth-client {", "    mode = 0666", "  }", "}",
        "",
    ])


@contextmanager
def run_dovecot(directory: Path, certificate: Certificate, *, tls: bool = True,
                mechanisms: str = "plain login",
                sni: dict[str, Certificate] | None = None) -> Iterator[Dovecot]:
    """Dovecot on loopback: STARTTLS and implicit-TLS listeners for IMAP and POP3."""
    require_root("Dovecot")
    program = require_program("dovecot", "dovecot-imapd", "dovecot-pop3d")
    for protocol in ("imap", "pop3"):  # dovecot-core alone has neither
        require_file(Path(f"/usr/lib/dovecot/{protocol}"), f"dovecot-{protocol}d")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    config = directory / "dovecot.conf"
    config.write_text(_dovecot_config(directory, certificate, ports, tls=tls,
                                      mechanisms=mechanisms, sni=sni or {}))
    log = directory / "dovecot.log"
    with (directory / "stderr").open("w") as stderr:
        process = subprocess.Popen([str(program), "-F", "-c", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        listening = [ports["imap"], ports["pop3"]] + (
            [ports["imaps"], ports["pop3s"]] if tls else [])
        _wait_for_ports(listening, directory / "stderr" if not log.exists() else log)
        yield Dovecot(ports["imap"], ports["imaps"] if tls else 0, ports["pop3"],
                      ports["pop3s"] if tls else 0, directory / "run" / "auth-client", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _postfix_main(directory: Path, certificate: Certificate, auth_socket: Path, *,
                  tls: bool) -> str:
    lines = [
        "compatibility_level = 3.6",
        f"queue_directory = {directory}/queue",
        f"data_directory = {directory}/data",
        f"maillog_file = {directory}/postfix.log",
        f"maillog_file_prefixes = {directory}",  # by default only /var and /dev/stdout
        "myhostname = mail.probe.test",
        "mydestination =",
        "inet_interfaces = 127.0.0.1",
        "inet_protocols = ipv4",
        "smtpd_sasl_auth_enable = yes",
        "smtpd_sasl_type = dovecot",
        f"smtpd_sasl_path = {auth_socket}",
    ]
    if tls:
        lines += [f"smtpd_tls_cert_file = {certificate.cert}",
                  f"smtpd_tls_key_file = {certificate.key}",
                  "smtpd_tls_security_level = may",
                  "smtpd_tls_auth_only = yes"]
    return "\n".join([*lines, ""])


def _postfix_master(ports: tuple[int, int], *, tls: bool) -> str:
    submissions, submission = ports
    wrapper = "-o smtpd_tls_wrappermode=yes" if tls else ""
    encrypt = "-o smtpd_tls_security_level=encrypt" if tls else ""
    return "\n".join([
        f"127.0.0.1:{submissions} inet n - n - - smtpd {wrapper}",
        f"127.0.0.1:{submission} inet n - n - - smtpd {encrypt}",
        "postlog unix-dgram n - n - 1 postlogd",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "proxymap unix - - n - - proxymap",
        "anvil unix - - n - 1 anvil",
        "rewrite unix - - n - - trivial-rewrite",
        "",
    ])


@contextmanager
def run_postfix(directory: Path, certificate: Certificate, auth_socket: Path, *,
                tls: bool = True) -> Iterator[Postfix]:
    """Postfix on loopback: submissions (465-style) and submission (587-style)."""
    require_root("Postfix")
    program = require_program("postfix", "postfix")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    for name in ("conf", "queue", "data"):
        (directory / name).mkdir(exist_ok=True)
    owner = pwd.getpwnam("postfix")
    os.chown(directory / "data", owner.pw_uid, owner.pw_gid)
    ports = (free_port(), free_port())
    (directory / "conf" / "main.cf").write_text(
        _postfix_main(directory, certificate, auth_socket, tls=tls))
    (directory / "conf" / "master.cf").write_text(_postfix_master(ports, tls=tls))
    command = [str(program), "-c", str(directory / "conf")]
    log = directory / "postfix.log"
    started = subprocess.run([*command, "start"], capture_output=True, text=True,
                             timeout=60, check=False)
    if started.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else ""
        raise AssertionError(f"postfix did not start: {started.stderr}\n{text}")
    try:
        _wait_for_ports(list(ports), log)
        yield Postfix(ports[0], ports[1], log)
    finally:
        subprocess.run([*command, "stop"], capture_output=True, timeout=60, check=False)
