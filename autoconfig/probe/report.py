"""``autoconfig probe`` output: text for people, JSON for scripts."""

from __future__ import annotations

import json

from autoconfig.probe.result import Status, Verdict
from autoconfig.probe.transport import Sent


def text_report(address: str, verdicts: list[Verdict]) -> str:
    """One block per client: the verdict line, its servers, its steps and the fix."""
    lines = []
    for verdict in verdicts:
        head = f"{verdict.title}: {verdict.status}: {verdict.summary}"
        lines.append(head + (f" ({verdict.source})" if verdict.source else ""))
        lines += [f"  {setting}" for setting in verdict.settings]
        if verdict.fix and verdict.status is not Status.OK:
            lines.append(f"  fix: {verdict.fix}")
        lines += [f"  step {step}" for step in verdict.steps]
        lines += [f"  note: {note}" for note in verdict.notes]
    counts = {status: sum(v.status is status for v in verdicts) for status in Status}
    lines.append(f"{address}: {counts[Status.OK]} ok, {counts[Status.WARNING]} warnings,"
                 f" {counts[Status.FAIL]} failed")
    return "\n".join(lines) + "\n"


def json_report(address: str, verdicts: list[Verdict], sent: list[Sent]) -> str:
    """Every verdict, and every request the probe sent (method, URL, headers)."""
    payload = {
        "address": address,
        "clients": [v.to_json() for v in verdicts],
        "requests": [{"client": s.client, "method": s.method, "url": s.url,
                      "headers": s.headers} for s in sent],
    }
    return json.dumps(payload, indent=2) + "\n"
