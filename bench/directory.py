"""Benchmark: what clients wait while the directory answers, is stopped, or hangs.

Run from the repository root:

    .venv/bin/python -m bench.directory [--duration 3] [--connections 8] [--timeout 2]

On loopback only: a throwaway slapd (tests/support/directory.py, StartTLS with a test
CA) and `autoconfig serve` from the installed wheel (tests/support/installed.py) on
tests/data/directory, whose logins come from the directory. Each phase sends POX
requests for new addresses (so the worker's cache never answers) from --connections
threads for --duration seconds and prints the median, the 99th percentile and the
worst request: with the directory answering, stopped (connections refused) and hung
(SIGSTOP: connections accepted, nothing answered). The worst request with a failing
directory is bounded by AUTOCONFIG_LDAP_TIMEOUT (--timeout) plus the server's own time.
A benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from lxml import etree

from autoconfig.pox import NS_OUTLOOK_RESPONSE
from tests.support.directory import hung, run_directory, stopped
from tests.support.http import Reply, request
from tests.support.load import Timings, timed_load
from tests.support.paths import TEST_DATA
from tests.support.pox_requests import autodiscover_request
from tests.support.server import run_server

NS = {"r": NS_OUTLOOK_RESPONSE}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.directory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients")
    parser.add_argument("--timeout", type=float, default=2.0, help="AUTOCONFIG_LDAP_TIMEOUT")
    parser.add_argument("--retry-after", type=float, default=10.0,
                        help="AUTOCONFIG_LDAP_RETRY_AFTER: how often a worker probes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-directory-") as scratch:
        run(Path(scratch), args)


def run(scratch: Path, args: argparse.Namespace) -> None:
    with run_directory(scratch / "ldap") as directory:
        env = directory.env(AUTOCONFIG_LDAP_TIMEOUT=str(args.timeout),
                            AUTOCONFIG_LDAP_RETRY_AFTER=str(args.retry_after))
        with run_server(TEST_DATA / "directory", scratch / "server.log", env=env,
                        workers=args.workers) as server:

            def pox(local: str) -> Reply:
                return request(server.base, "/autodiscover/autodiscover.xml", method="POST",
                               body=autodiscover_request(f"{local}@uni.example"),
                               headers={"Content-Type": "text/xml"}, timeout=30)

            def check(local: str, reply: Reply) -> str | None:
                """None for a 200 with the template's login (new addresses: unknown)."""
                if reply.status != 200:
                    return f"status {reply.status}"
                logins = etree.fromstring(reply.body).xpath("//r:LoginName/text()",
                                                            namespaces=NS)
                return None if logins == [local] * 2 else str(logins)

            phases: list[tuple[str, Callable[[], AbstractContextManager[None]]]] = [
                ("answering", nullcontext),
                ("stopped", lambda: stopped(directory)),
                ("hung (SIGSTOP)", lambda: hung(directory)),
            ]
            print(f"AUTOCONFIG_LDAP_TIMEOUT={args.timeout:g} s, AUTOCONFIG_LDAP_RETRY_AFTER="
                  f"{args.retry_after:g} s, {args.workers} workers, {args.connections} clients,"
                  f" {args.duration:g} s per phase")
            for phase, (name, fault) in enumerate(phases):
                recovered(pox, args.retry_after)
                with fault():
                    timings = timed_load(
                        lambda n, p=phase: pox(f"p{p}u{n}"),
                        lambda n, reply, p=phase: check(f"p{p}u{n}", reply),
                        args.connections, args.duration,
                    )
                report(name, timings)


def recovered(pox: Callable[[str], Reply], retry_after: float) -> None:
    """Wait out the back-off of the phase before, until every worker finds the directory
    again (with connections in its pool, as in production)."""
    time.sleep(retry_after + 0.2)
    for _ in range(40):
        answers = [pox("jane.doe") for _ in range(8)]
        if all(b"<LoginName>jdoe</LoginName>" in reply.body for reply in answers):
            return
        time.sleep(0.5)
    raise SystemExit("the directory did not answer again")


def report(name: str, timings: Timings) -> None:
    wrong = f", {len(timings.refused)} wrong answers" if timings.refused else ""
    statuses = sorted(set(timings.statuses))
    print(f"{name:>16}: {timings.summary()}; statuses {statuses}{wrong}")


if __name__ == "__main__":
    main()
