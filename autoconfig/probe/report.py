"""``autoconfig probe`` output: text for people, JSON for scripts.

Text prints each fix once per client (the steps say what happened, the fix lines
what to change) and folds failed steps with the same outcome into one line with a
count, so a dead resolver or a missing name reads as one problem, not twelve.
"""

from __future__ import annotations

import json
import re
from typing import Any

from autoconfig.probe.result import Status, Step, Verdict, overall
from autoconfig.probe.transport import Sent

# Host names and numbers in an outcome: the parts that differ between identical failures.
_VARYING = re.compile(r"[\w-]+(?:\.[\w-]+)+|\d+")


def folded(steps: list[Step]) -> list[str]:
    """The step lines, failed steps with the same failure and fix folded into one.

    The same failure: the outcomes are equal once host names and numbers are set
    aside ("DNS: no answer from … within 3 s (asking for A of <each name>)").
    """
    lines: list[str] = []
    seen: dict[tuple[str, str], int] = {}  # (outcome pattern, fix) -> index in lines
    counts: dict[int, int] = {}
    for step in steps:
        key = (_VARYING.sub("#", step.outcome), step.fix)
        if not step.ok and key in seen:
            counts[seen[key]] += 1
            continue
        if not step.ok:
            seen[key] = len(lines)
        counts[len(lines)] = 1
        lines.append(str(step))
    return [line if counts[i] == 1 else f"{line} (and {counts[i] - 1} more steps like it)"
            for i, line in enumerate(lines)]


def verdict_lines(verdict: Verdict) -> list[str]:
    """One client: the verdict line, its servers, its fixes, its steps and notes."""
    head = f"{verdict.title}: {verdict.status}: {verdict.summary}"
    lines = [head + (f" ({verdict.source})" if verdict.source else "")]
    lines += [f"  {setting}" for setting in verdict.settings]
    if verdict.status is not Status.OK:
        lines += [f"  fix: {fix}" for fix in verdict.fixes()]
    lines += [f"  step {line}" for line in folded(verdict.steps)]
    lines += [f"  note: {note}" for note in verdict.notes]
    return lines


def text_report(address: str, verdicts: list[Verdict], extra: list[str] | None = None,
                extra_status: Status = Status.OK) -> str:
    """Every client's block, ``extra`` lines (the server checks), and the count."""
    lines = [line for verdict in verdicts for line in verdict_lines(verdict)]
    lines += extra or []
    counts = {status: sum(v.status is status for v in verdicts) for status in Status}
    status = overall([*(v.status for v in verdicts), extra_status])
    lines.append(f"{address}: {status}: {counts[Status.OK]} ok, {counts[Status.WARNING]}"
                 f" warnings, {counts[Status.FAIL]} failed")
    return "\n".join(lines) + "\n"


def json_report(address: str, verdicts: list[Verdict], sent: list[Sent],
                extra: dict[str, Any] | None = None, extra_status: Status = Status.OK) -> str:
    """The overall status, every verdict, every request the probe sent, and ``extra``."""
    payload = {
        "address": address,
        "status": str(overall([*(v.status for v in verdicts), extra_status])),
        "clients": [v.to_json() for v in verdicts],
        **(extra or {}),
        "requests": [{"client": s.client, "method": s.method, "url": s.url,
                      "headers": s.headers} for s in sent],
    }
    return json.dumps(payload, indent=2) + "\n"


def json_error(message: str) -> str:
    """Bad input or options (exit status 2) under ``--format json``."""
    return json.dumps({"status": "error", "error": message}, indent=2) + "\n"
