"""Operators' endpoints: live, ready, and the metrics.

``/healthz`` (liveness) touches nothing but the process, so an orchestrator restarts a
replica only when it is stuck, never for a domain-file problem a restart would not fix.
With a directory configured its body also says whether this worker finds the directory
answering, and from a minute on that it has been failing; the status stays 200 and
readiness green, since the answers go on with the domain files' templates and taking
replicas out would not bring the directory back. Only the failure's kind is shown,
never the directory's address or error text (the path is public).
``/readyz`` (readiness) answers 200 only with a loaded configuration that serves at least
one domain, and says which load it is. ``/metrics`` is Prometheus' text format for a
scraper on the private network (the shipped nginx config refuses the path).
"""

from __future__ import annotations

import json
from http import HTTPStatus

from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.directory import Directory
from autoconfig.directory.health import LONG_OUTAGE

JSON_CONTENT_TYPE = "application/json"


def _json(code: int, **fields: object) -> Answer:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"
    return Answer(code, [("Content-Type", JSON_CONTENT_TYPE)], body.encode())


def healthz(ask: Ask, services: Services) -> Answer:
    """How much is being served; no per-domain detail (that is the CLI's job)."""
    registry = services.store.snapshot.registry
    fields: dict[str, object] = {}
    if services.directory is not None:
        fields["directory"] = _directory(services.directory)
    return _json(
        HTTPStatus.OK, status="ok", domains=len(registry.by_domain),
        files=len(registry.files), errors=len(registry.errors), **fields,
    )


def _directory(directory: Directory) -> dict[str, object]:
    """``{"status": "answering"}``, or how long (whole seconds) and of which kind the
    failure is: ``failing``, and ``failing for more than a minute`` from then on."""
    status = directory.status()
    if status.kind is None:
        return {"status": "answering"}
    long = status.failing_for >= LONG_OUTAGE
    return {
        "status": "failing for more than a minute" if long else "failing",
        "seconds": int(status.failing_for), "kind": status.kind,
    }


def readyz(ask: Ask, services: Services) -> Answer:
    """200 with the load's generation once domains are served; 503 otherwise."""
    store = services.store
    registry = store.snapshot.registry
    ready = bool(registry.by_domain)
    return _json(
        HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE,
        status="ready" if ready else "no domains loaded",
        domains=len(registry.by_domain), generation=store.generation,
    )


def metrics(ask: Ask, services: Services) -> Answer:
    """Every worker's values, added up."""
    body, content_type = services.metrics.exposition()
    return Answer(HTTPStatus.OK, [("Content-Type", content_type)], body)
