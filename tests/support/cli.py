"""The admin CLI driven in-process with click's runner, as Flask's own tests do.

One way for every test to run a command: arguments in, exit status and both output
streams out. A traceback is a test error (``catch_exceptions=False``), never output.
Process-level behaviour (``serve``, the installed console script) is tested on the
installed wheel instead (tests/support/installed.py).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from autoconfig.cli import main


@dataclass(frozen=True)
class CliResult:
    """What an admin sees: the exit status and the two streams."""

    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes


def run_cli(
    *arguments: str,
    stdin: bytes | str | None = None,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
) -> CliResult:
    """Run ``autoconfig ARGUMENTS`` in this process.

    ``check``'s compiled cache goes to a directory of this call, not to the user's
    ~/.cache, unless ``env`` names one.
    """
    runner = CliRunner()
    directory = contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext()
    with directory, tempfile.TemporaryDirectory(prefix="autoconfig-cache-") as cache:
        env = {"AUTOCONFIG_CACHE_DIR": cache, **(env or {})}
        result = runner.invoke(main, list(arguments), input=stdin, env=env, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)
