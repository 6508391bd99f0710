"""A real authoritative DNS server (NLnet Labs' nsd) for tests, on a loopback port.

Zones come from ``*.zone`` files (the zone name is the file name without
``.zone``). nsd runs in the foreground as the current user from a temporary
directory, and is stopped when the block ends. ``CountingProxy`` sits in front of
it to count the questions a client asks (nsd itself keeps no query log).
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype

from tests.support.system import require_program, stop_process

SOA_HEADER = """$TTL 300
@   IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 60
@   IN NS  ns.{zone}.
ns  IN A   127.0.0.1
"""


def zone_header(zone: str) -> str:
    """SOA and NS records for a zone written by a test (negative TTL 60 s)."""
    return SOA_HEADER.format(zone=zone)


def free_udp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (nsd listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise AssertionError("no free port on 127.0.0.1")


@dataclass
class DnsServer:
    """A running nsd: ask it at ``nameserver`` (``127.0.0.1:PORT``)."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def nameserver(self) -> str:
        """The ``--nameserver`` / ``AUTOCONFIG_DNS_NAMESERVER`` value for this server."""
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        """What nsd wrote to its log file."""
        path = self.directory / "nsd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(directory: Path, port: int, zones: list[str]) -> str:
    lines = [
        "server:",
        f"  ip-address: 127.0.0.1@{port}",
        "  do-ip6: no",
        '  username: ""',
        '  chroot: ""',
        f'  zonesdir: "{directory}"',
        f'  pidfile: "{directory}/nsd.pid"',
        f'  xfrdfile: "{directory}/xfrd.state"',
        f'  xfrdir: "{directory}"',
        f'  zonelistfile: "{directory}/zone.list"',
        f'  logfile: "{directory}/nsd.log"',
        '  database: ""',
        "  server-count: 1",
        "  verbosity: 1",
        "  hide-version: yes",
        "remote-control:",
        "  control-enable: no",
    ]
    for zone in zones:
        lines += ["zone:", f"  name: {zone}", f'  zonefile: "{zone}.zone"']
    return "\n".join(lines) + "\n"


def _answers(port: int, zone: str) -> bool:
    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    try:
        response = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
    except (OSError, dns.exception.Timeout):
        return False
    return bool(response.answer)


@contextmanager
def run_nsd(zones: dict[str, str], directory: Path) -> Iterator[DnsServer]:
    """Serve ``zones`` (name -> zone-file text) until the block ends."""
    nsd = require_program("nsd", "nsd")
    checkzone = nsd.with_name("nsd-checkzone")
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in zones.items():
        path = directory / f"{name}.zone"
        path.write_text(text)
        checked = subprocess.run(
            [str(checkzone), name, str(path)], capture_output=True, text=True, check=False
        )
        if checked.returncode != 0:
            raise AssertionError(f"zone {name} does not load:\n{checked.stdout}{checked.stderr}")
    port = free_udp_port()
    config = directory / "nsd.conf"
    config.write_text(_config(directory, port, sorted(zones)))
    with (directory / "nsd.out").open("wb") as out:
        process = subprocess.Popen(
            [str(nsd), "-d", "-c", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    server = DnsServer(port, directory, process)
    try:
        deadline = time.monotonic() + 20
        while not _answers(port, next(iter(zones))):
            if process.poll() is not None or time.monotonic() > deadline:
                output = (directory / "nsd.out").read_text(errors="replace")
                raise AssertionError(f"nsd did not start:\n{output}\n{server.log()}")
            time.sleep(0.05)
        yield server
    finally:
        stop_process(process)


def load_zones(folder: Path) -> dict[str, str]:
    """Every ``<zone>.zone`` file of ``folder``."""
    return {path.name.removesuffix(".zone"): path.read_text() for path in folder.glob("*.zone")}


@dataclass
class CountingProxy:
    """A UDP forwarder to a DNS server that counts every (name, type) asked."""

    upstream: int
    port: int = 0
    asked: Counter[tuple[str, str]] = field(default_factory=Counter)
    _socket: socket.socket | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def nameserver(self) -> str:
        """Where clients should ask."""
        return f"127.0.0.1:{self.port}"

    def count(self, name: str, rdtype: str) -> int:
        """How often ``rdtype`` of ``name`` was asked so far."""
        with self._lock:
            return self.asked[(name.lower().rstrip("."), rdtype)]

    def _serve(self, sock: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                data, client = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            try:
                question = dns.message.from_wire(data).question[0]
                name = str(question.name).lower().rstrip(".")
                key = (name, dns.rdatatype.to_text(question.rdtype))
                with self._lock:
                    self.asked[key] += 1
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
                    upstream.settimeout(2)
                    upstream.sendto(data, ("127.0.0.1", self.upstream))
                    reply, _ = upstream.recvfrom(65535)
                sock.sendto(reply, client)
            except (OSError, dns.exception.DNSException, IndexError):
                continue

    @contextmanager
    def running(self) -> Iterator[CountingProxy]:
        """Forward until the block ends."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.1)  # a closed socket does not wake recvfrom; the flag does
        self.port = sock.getsockname()[1]
        stop = threading.Event()
        thread = threading.Thread(target=self._serve, args=(sock, stop), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=5)
            sock.close()


@contextmanager
def silent_nameserver() -> Iterator[str]:
    """A bound UDP socket that never answers: a dead resolver at ``127.0.0.1:PORT``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"
