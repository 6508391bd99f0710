"""How long ``autoconfig probe`` takes to start, so time-limit tests measure the probe.

``--time-limit`` runs from the moment the probe has parsed its options; before that
the interpreter imports the CLI, which on a busy machine takes seconds. A test that
checks "the limit holds within a second or two" adds this start-up time, measured
the same way: a probe that exits at once with bad input (status 2).
"""

from __future__ import annotations

import subprocess
import time

from tests.support.installed import installed_command


def startup_seconds() -> float:
    """Wall time of a probe run that stops right after parsing its input."""
    started = time.monotonic()
    result = subprocess.run([str(installed_command()), "probe", "someone@co.uk"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    return time.monotonic() - started
