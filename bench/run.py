"""Benchmark: the three client documents served by gunicorn, through nginx, and static.

Run from the repository root (root may install wrk from Debian on first use):

    .venv/bin/python -m bench.run [--duration 3] [--rounds 3] [--connections 16]

On loopback only: starts `autoconfig serve` on the bundled domains/, the shipped
nginx config (rendered like the tests do) with a test certificate, and two baselines:
the same Thunderbird bytes as a static file on the same nginx and TLS settings, and
the bare-Flask ceiling (bench/ceiling.py: a Flask app under the same gunicorn settings
answering the same bytes with no work). Prints requests/s, the spread of the rounds and
latency percentiles per case, then the ratios.
The per-client rate limit is lifted for the run (all load comes from one address).
A benchmark, not a test: numbers depend on the machine (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from autoconfig.cli.serve import WORKER_CLASSES
from tests.support.http import free_port, request
from tests.support.nginx import TEST_NAMES, https_request, run_nginx
from tests.support.paths import DOMAINS
from tests.support.pki import make_pki
from tests.support.server import run_server
from tests.support.system import stop_process

ADDRESS = "alice@example.com"
THUNDERBIRD = f"/mail/config-v1.1.xml?emailaddress={ADDRESS}"
PROFILE = f"/apple/profile.mobileconfig?emailaddress={ADDRESS}"
POX = "/autodiscover/autodiscover.xml"
POX_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
    'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>'
    f"{ADDRESS}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
    "autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)
# nginx counts requests per millisecond: at tens of thousands per second from one
# address, the burst must grow with the rate or the shipped limit answers 429.
UNLIMITED = {"rate=10r/s": "rate=1000000r/s", "burst=20 ": "burst=100000 "}
STATIC_HOST = "static.example.com"
STATIC_SERVER = """
    server {
        listen 127.0.0.1:@HTTPS_PORT@ ssl;
        server_name static.example.com;
        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /mail/config-v1.1.xml {
            root @STATIC_ROOT@;
            default_type text/xml;
        }
    }
"""


@dataclass(frozen=True)
class Case:
    """One wrk run: what is asked of whom."""

    target: str
    document: str
    url: str
    host: str
    lua: Path | None = None


@dataclass(frozen=True)
class Result:
    """What wrk measured for one case."""

    case: Case
    rps: float
    p50: str
    p90: str
    p99: str
    errors: int


def ensure_wrk() -> str:
    """wrk from Debian; installed with apt-get when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is missing: install it with `apt-get install wrk`")
    return found


def run_wrk(wrk: str, case: Case, args: argparse.Namespace) -> Result:
    """One bounded wrk run on loopback, parsed."""
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
               "--latency", "-H", f"Host: {case.host}"]
    if case.lua:
        command += ["-s", str(case.lua)]
    output = subprocess.run(
        [*command, case.url], capture_output=True, text=True, check=True,
        timeout=args.duration + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Result(case, rps, latency.get("50", "?"), latency.get("90", "?"),
                  latency.get("99", "?"), errors)


def pox_script(directory: Path) -> Path:
    """wrk's Lua hook that turns every request into the POX POST."""
    script = directory / "pox.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "text/xml; charset=utf-8"\n'
        f"wrk.body = [[{POX_BODY}]]\n"
    )
    return script


def report(results: list[Result], spread: dict[tuple[str, str], float]) -> None:
    """The table, then the ratios docs/benchmarks.md quotes."""
    print(f"{'target':<10} {'document':<12} {'req/s':>9} {'spread':>7} {'p50':>9} {'p90':>9} "
          f"{'p99':>9} {'errors':>6}")
    for r in results:
        key = (r.case.target, r.case.document)
        print(f"{r.case.target:<10} {r.case.document:<12} {r.rps:>9.0f} {spread[key]:>7.0%} "
              f"{r.p50:>9} {r.p90:>9} {r.p99:>9} {r.errors:>6}")
    rps = {(r.case.target, r.case.document): r.rps for r in results}
    static = rps[("static", "thunderbird")]
    print()
    print(f"nginx cached Thunderbird / static file: "
          f"{rps[('nginx', 'thunderbird')] / static:.0%}")
    goals = {"thunderbird": 0.90, "pox": 0.70, "profile": 0.60}
    for document in ("thunderbird", "pox", "profile"):
        ceiling = rps[("ceiling", document)]
        print(f"{document:<12} gunicorn / bare-Flask ceiling: "
              f"{rps[('gunicorn', document)] / ceiling:.0%} (goal {goals[document]:.0%})   "
              f"nginx / gunicorn direct: "
              f"{rps[('nginx', document)] / rps[('gunicorn', document)]:.0%}")


@contextmanager
def run_ceiling(documents: Path, log: Path, args: argparse.Namespace) -> Iterator[str]:
    """bench/ceiling.py under gunicorn with the real server's worker settings (gthread is
    the balanced variant `autoconfig serve` runs, autoconfig/server/worker.py)."""
    port = free_port()
    env = {**os.environ, "AUTOCONFIG_BENCH_DOCUMENTS": str(documents)}
    threads = args.gunicorn_threads if args.worker_class == "gthread" else 1
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers),
             "--worker-class", WORKER_CLASSES[args.worker_class],
             "--threads", str(threads), "--keep-alive", "20", "bench.ceiling:app"],
            stdout=output, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).parents[1],
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request(base, THUNDERBIRD, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"the ceiling app did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        stop_process(process, timeout=15)


def main() -> None:
    """Start the three servers, run every case once, print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per case")
    parser.add_argument("--rounds", type=int, default=3, help="runs per case; median kept")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    args = parser.parse_args()
    wrk = ensure_wrk()
    env = {"AUTOCONFIG_TRUSTED_PROXIES": "127.0.0.1", "AUTOCONFIG_WORKER_CLASS": args.worker_class,
           "AUTOCONFIG_THREADS": str(args.gunicorn_threads), "AUTOCONFIG_RELOAD_INTERVAL": "5"}
    with tempfile.TemporaryDirectory(prefix="autoconfig-bench-") as temporary:
        tmp = Path(temporary)
        pki = make_pki(tmp / "pki", (*TEST_NAMES, STATIC_HOST))
        with run_server(DOMAINS, tmp / "gunicorn.log", env=env, workers=args.workers) as app:
            document = request(app.base, THUNDERBIRD,
                               headers={"Host": "autoconfig.example.com"}).body
            static_root = tmp / "static"
            (static_root / "mail").mkdir(parents=True)
            (static_root / "mail" / "config-v1.1.xml").write_bytes(document)
            extra = STATIC_SERVER.replace("@STATIC_ROOT@", str(static_root))
            saved = tmp / "documents"
            saved.mkdir()
            (saved / "thunderbird").write_bytes(document)
            (saved / "pox").write_bytes(request(
                app.base, POX, method="POST", body=POX_BODY.encode(),
                headers={"Host": "autodiscover.example.com", "Content-Type": "text/xml"},
            ).body)
            (saved / "profile").write_bytes(request(app.base, PROFILE).body)
            with run_nginx(tmp / "nginx", pki=pki, backends=[app.base.removeprefix("http://")],
                           overrides=UNLIMITED, extra_http=extra,
                           workers=2) as nginx, \
                    run_ceiling(saved, tmp / "ceiling.log", args) as ceiling:
                https = f"https://127.0.0.1:{nginx.https_port}"
                lua = pox_script(tmp)
                cases = [
                    Case("ceiling", "thunderbird", ceiling + THUNDERBIRD,
                         "autoconfig.example.com"),
                    Case("ceiling", "pox", ceiling + POX, "autodiscover.example.com", lua),
                    Case("ceiling", "profile", ceiling + PROFILE, "autoconfig.example.com"),
                    Case("gunicorn", "thunderbird", app.base + THUNDERBIRD,
                         "autoconfig.example.com"),
                    Case("gunicorn", "pox", app.base + POX, "autodiscover.example.com", lua),
                    Case("gunicorn", "profile", app.base + PROFILE, "autoconfig.example.com"),
                    Case("nginx", "thunderbird", https + THUNDERBIRD, "autoconfig.example.com"),
                    Case("nginx", "pox", https + POX, "autodiscover.example.com", lua),
                    Case("nginx", "profile", https + PROFILE, "autoconfig.example.com"),
                    Case("static", "thunderbird", https + THUNDERBIRD, STATIC_HOST),
                ]
                print(f"{os.cpu_count()} CPUs; wrk -t{args.threads} -c{args.connections} "
                      f"-d{args.duration}s x {args.rounds} rounds; gunicorn {args.worker_class} "
                      f"workers={args.workers} threads={args.gunicorn_threads}", flush=True)
                # Steady state: the first miss (and its cache lock) is not what we measure.
                https_request(nginx.https_port, "autoconfig.example.com", THUNDERBIRD,
                              ca=pki.ca)
                rounds = [[run_wrk(wrk, case, args) for case in cases]
                          for _ in range(args.rounds)]
    per_case = list(zip(*rounds, strict=True))
    report([median(of_case) for of_case in per_case],
           {(r[0].case.target, r[0].case.document): spread(r) for r in per_case})


def spread(results: tuple[Result, ...]) -> float:
    """(highest - lowest) / median requests/s of the rounds of one case."""
    rates = sorted(r.rps for r in results)
    return (rates[-1] - rates[0]) / rates[len(rates) // 2]


def median(results: tuple[Result, ...]) -> Result:
    """The run with the median requests/s: the machine is shared, rounds vary."""
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


if __name__ == "__main__":
    main()
