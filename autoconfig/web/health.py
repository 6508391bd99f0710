"""Operators' health check: 200 once a registry is loaded."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from autoconfig.web.lookup import current_snapshot

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """How much is being served; no per-domain detail (that is the CLI's job)."""
    registry = current_snapshot().registry
    response = jsonify(
        status="ok",
        domains=len(registry.by_domain),
        files=len(registry.files),
        errors=len(registry.errors),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
