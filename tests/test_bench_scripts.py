"""The benchmark scripts stay runnable: they import the test support they build on.

Benchmarks are not run by the suite (they print numbers, they assert nothing), but a
refactoring of tests/support must not leave them broken until someone measures again.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO


@pytest.mark.parametrize(
    "module", ["bench.run", "bench.scale", "bench.directory", "bench.container"]
)
def test_benchmark_script_starts_and_explains_itself(module: str) -> None:
    result = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                            text=True, timeout=60, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ")
    assert "--connections" in result.stdout
