"""Operators' probes: live (the process answers) and ready (a configuration is loaded).

They mean different things on purpose. ``/healthz`` (liveness) touches nothing but
the process, so an orchestrator restarts a replica only when it is stuck, never for
a domain-file problem a restart would not fix. ``/readyz`` (readiness) answers 200
only with a loaded configuration that serves at least one domain, and says which
load it is, so a load balancer sends clients only to replicas that can answer them.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response, jsonify

from autoconfig.web.lookup import current_snapshot, current_store

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """How much is being served; no per-domain detail (that is the CLI's job)."""
    registry = current_snapshot().registry
    return jsonify(
        status="ok",
        domains=len(registry.by_domain),
        files=len(registry.files),
        errors=len(registry.errors),
    )


@blueprint.get("/readyz")
def readyz() -> Response:
    """200 with the load's generation once domains are served; 503 otherwise."""
    store = current_store()
    registry = store.snapshot.registry
    ready = bool(registry.by_domain)
    response = jsonify(
        status="ready" if ready else "no domains loaded",
        domains=len(registry.by_domain),
        generation=store.generation,
    )
    response.status_code = HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE
    return response
