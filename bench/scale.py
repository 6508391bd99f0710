"""Benchmark: a hosting provider's many domains, served by `autoconfig serve` as shipped.

For each case (N generated files of two domains each, or one file listing N domains)
prints: `autoconfig check` time; time until /healthz answers, on a first start and on a
restart that finds the compiled cache; the memory of every process (PSS from
/proc/PID/smaps_rollup); Thunderbird GET throughput (wrk, directly on gunicorn) against
the 4-file case measured in the same run; and, while wrk runs, one file edited: the
slowest request during the reload and when the edit was first served.

    .venv/bin/python -m bench.scale [--cases 1000 10000 100000 one:100000]

Needs wrk (`apt-get install wrk`; bench/run.py installs it when run as root). Loopback
only. The machine's load moves every number: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.run import ensure_wrk
from tests.support.domain_files import write_customers
from tests.support.http import free_port, request

AUTOCONFIG = Path(sys.executable).with_name("autoconfig")
SHARED = """name: Shared Hosting {i}
domains:
{domains}incoming:
  - {{protocol: imap, host: mail.%EMAILDOMAIN%, security: tls}}
outgoing:
  - {{protocol: smtp, host: mail.%EMAILDOMAIN%, security: tls}}
"""


@dataclass
class Case:
    """One directory of domain files, and what was measured on it."""

    label: str
    directory: Path
    edited: Path
    edited_domain: str
    query_domain: str
    check_s: float = 0.0
    check_again_s: float = 0.0
    cold_s: float = 0.0
    warm_s: float = 0.0
    pss_mib: tuple[float, ...] = ()
    rps: float = 0.0
    steady_max_ms: float = 0.0
    reload_max_ms: float = 0.0
    edit_served_s: float = 0.0


def generate(root: Path, spec: str) -> Case:
    """``N`` files of two domains each, or ``one:N``: one file listing N domains."""
    directory = root / spec.replace(":", "-")
    directory.mkdir()
    if spec.startswith("one:"):
        count = int(spec[4:])
        listed = "".join(f"  - customer{i}.example\n" for i in range(count))
        edited = directory / "shared-hosting.yaml"
        edited.write_text(SHARED.format(i=0, domains=listed))
        return Case(f"1 file, {count} domains", directory, edited, "customer0.example",
                    f"customer{count // 2}.example")
    count = int(spec)
    write_customers(directory, count)
    return Case(f"{count} files", directory, directory / "customer0.example.yaml",
                "customer0.example", f"customer{count // 2}.example")


def pss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def processes(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


def thunderbird(domain: str) -> str:
    return f"/mail/config-v1.1.xml?emailaddress=someone@{domain}"


class Server:
    """`autoconfig serve` on a free loopback port, timed until /healthz answers."""

    def __init__(self, case: Case, cache: Path, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "AUTOCONFIG_CACHE_DIR": str(cache), "AUTOCONFIG_RELOAD_INTERVAL": "5"}
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [str(AUTOCONFIG), "serve", "--bind", f"127.0.0.1:{self.port}", "--domains",
             str(case.directory), "--workers", str(workers)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"autoconfig serve exited with {self.process.returncode}")
            try:
                if request(self.base, "/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        self.ready_s = time.perf_counter() - started

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def wrk(binary: str, url: str, seconds: int, connections: int) -> tuple[float, float]:
    """Requests/s and the slowest request in ms of one wrk run."""
    output = subprocess.run(
        [binary, "-t1", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    worst = float(latency.group(1)) * scale[latency.group(2)] if latency else float("nan")
    return rps, worst


def measure(case: Case, args: argparse.Namespace, binary: str, cache: Path) -> None:
    env = {**os.environ, "AUTOCONFIG_CACHE_DIR": str(cache.with_name(cache.name + "-check"))}
    for attempt in ("check_s", "check_again_s"):  # the second finds the compiled cache
        started = time.perf_counter()
        subprocess.run([str(AUTOCONFIG), "check", str(case.directory)], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        setattr(case, attempt, time.perf_counter() - started)
    shutil.rmtree(cache, ignore_errors=True)
    server = Server(case, cache, args.workers)
    case.cold_s = server.ready_s
    try:
        url = server.base + thunderbird(case.query_domain)
        for _ in range(50):
            request(server.base, thunderbird(case.query_domain))
        case.rps, case.steady_max_ms = wrk(binary, url, args.duration, args.connections)
        case.pss_mib = tuple(pss_mib(pid) for pid in processes(server.process.pid))
        reload_loop(case, server, binary, args)
        deadline = time.monotonic() + 120  # the master writes the cache after start-up
        while not list(cache.glob("*.cache")) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.stop()
    server = Server(case, cache, args.workers)
    case.warm_s = server.ready_s
    server.stop()


def reload_loop(case: Case, server: Server, binary: str, args: argparse.Namespace) -> None:
    """wrk runs while one file is edited: the worst latency and when the edit shows."""
    url = server.base + thunderbird(case.query_domain)
    result: list[tuple[float, float]] = []
    runner = threading.Thread(target=lambda: result.append(wrk(binary, url, 6, args.connections)))
    runner.start()
    time.sleep(1.5)
    text = case.edited.read_text()
    case.edited.write_text(text.replace("Customer 0", "Customer Zero", 1)
                           .replace("Shared Hosting 0", "Shared Hosting Zero", 1))
    edited_at = time.perf_counter()
    while b" Zero</displayName>" not in request(server.base, thunderbird(case.edited_domain)).body:
        if time.perf_counter() - edited_at > 60:
            break
        time.sleep(0.01)
    case.edit_served_s = time.perf_counter() - edited_at
    runner.join()
    case.reload_max_ms = result[0][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", nargs="+", default=["1000", "10000", "100000", "one:100000"])
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per case")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    binary = ensure_wrk()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; wrk -t1 "
          f"-c{args.connections} -d{args.duration}s, Thunderbird GET on gunicorn directly; "
          f"{args.workers} workers", flush=True)
    with tempfile.TemporaryDirectory(prefix="autoconfig-scale-") as temporary:
        root = Path(temporary)
        cases = []
        for spec in ["4", *args.cases]:
            case = generate(root, spec)
            measure(case, args, binary, root / f"cache-{spec.replace(':', '-')}")
            cases.append(case)
            print(f"  measured {case.label}", flush=True)
            if len(cases) > 1:  # 100 000 files are 400 MB of inodes: free them early
                shutil.rmtree(case.directory, ignore_errors=True)
    baseline = cases[0].rps
    print()
    print(f"{'case':<22} {'check':>6} {'again':>6} {'ready':>6} {'restart':>7}"
          f" {'PSS MiB: master, workers':>25} {'total':>5} {'req/s':>6} {'vs 4':>5}"
          f" {'max ms':>6} {'reload max':>10} {'edit seen':>9}")
    for c in cases:
        pss = ", ".join(f"{p:.0f}" for p in c.pss_mib)
        print(f"{c.label:<22} {c.check_s:>5.1f}s {c.check_again_s:>5.1f}s {c.cold_s:>5.1f}s"
              f" {c.warm_s:>6.1f}s {pss:>25} {sum(c.pss_mib):>5.0f} {c.rps:>6.0f}"
              f" {c.rps / baseline:>5.0%} {c.steady_max_ms:>6.0f} {c.reload_max_ms:>8.0f}ms"
              f" {c.edit_served_s:>8.2f}s")
    print("check: first run; again: with the compiled cache. ready: first start;"
          " restart: with the cache.")
    print("max ms: slowest request of the throughput run; reload max: slowest request"
          " while one file was edited; edit seen: from the edit to the first answer with it.")


if __name__ == "__main__":
    main()
