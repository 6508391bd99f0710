"""How loading scales to a hosting provider's tens of thousands of domain files.

Prints, for N generated files: the time to parse them with bare PyYAML (the
floor any YAML-based loader pays: the baseline), our full load (parse with line
numbers + validation + records), the snapshot (plus rendering every Thunderbird
document once), the reload check (stat of every file), lookups per second, and
the process's peak memory. Run: .venv/bin/python bench/scale.py [N ...]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

from autoconfig.domains.load import domain_files
from autoconfig.domains.store import build_snapshot, directory_signature

TEMPLATE = """name: Customer {i}
domains: [customer{i}.example, alias{i}.example]
incoming:
  - {{protocol: imap, host: mail.%EMAILDOMAIN%, security: tls}}
  - {{protocol: pop3, host: mail.%EMAILDOMAIN%, security: tls}}
outgoing:
  - {{protocol: smtp, host: mail.%EMAILDOMAIN%, security: tls}}
  - {{protocol: smtp, host: mail.%EMAILDOMAIN%, security: starttls}}
"""


def timed(label: str, function: object, baseline: float | None = None) -> float:
    start = time.perf_counter()
    function()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    ratio = f"  ({elapsed / baseline:4.1f}x baseline)" if baseline else ""
    print(f"  {label:<44} {elapsed * 1000:9.1f} ms{ratio}")
    return elapsed


def run(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        for i in range(count):
            (directory / f"customer{i}.example.yaml").write_text(TEMPLATE.format(i=i))
        print(f"{count} domain files ({2 * count} domains):")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        base = timed(
            "baseline: bare yaml.load of every file",
            lambda: [yaml.load(p.read_text(), Loader=loader) for p in domain_files(directory)],  # noqa: S506 - a safe loader
        )
        holder: dict[str, object] = {}
        timed(
            "full load + render every document",
            lambda: holder.update(s=build_snapshot(directory)),
            base,
        )
        timed("reload check (stat every file)", lambda: directory_signature(directory), base)
        snapshot = holder["s"]
        edited = directory / "customer0.example.yaml"
        edited.write_text(TEMPLATE.format(i=0).replace("Customer 0", "Customer zero"))
        timed("reload after editing one file", lambda: build_snapshot(directory, snapshot), base)
        names = [f"customer{i % count}.example" for i in range(100_000)]
        start = time.perf_counter()
        for name in names:
            snapshot.registry.lookup(name)  # type: ignore[attr-defined]
        rate = len(names) / (time.perf_counter() - start)
        print(f"  {'registry lookups per second':<44} {rate:12,.0f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {'peak resident memory of this process':<44} {peak:9.1f} MiB")


if __name__ == "__main__":
    for argument in sys.argv[1:] or ["1000", "10000"]:
        run(int(argument))
