"""``/metrics``: the Prometheus text format, for a scraper on the private network.

The shipped nginx config refuses this path (README "Metrics"): scrape the pods or
gunicorn's port directly.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from autoconfig.answers.metrics import Metrics

blueprint = Blueprint("metrics", __name__)

METRICS_KEY = "autoconfig.metrics"


def current_metrics() -> Metrics:
    """The running app's metrics."""
    metrics: Metrics = current_app.extensions[METRICS_KEY]
    return metrics


@blueprint.get("/metrics")
def metrics() -> Response:
    """Every worker's values, added up."""
    body, content_type = current_metrics().exposition()
    return Response(body, content_type=content_type)
