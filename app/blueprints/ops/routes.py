"""Endpoints for load balancers, orchestrators and Prometheus: /healthz, /readyz, /metrics.

No login, no CSRF, no rate limit: probes call them every few seconds without a session.
/metrics is limited to a bearer token or allow-listed networks (app/security/metrics_access.py).
"""

from flask import Response, jsonify

from app.blueprints.ops import bp
from app.extensions import csrf, limiter
from app.observability import metrics
from app.security import metrics_access
from app.services import readiness

csrf.exempt(bp)
limiter.exempt(bp)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """The process is alive and answers; depends on nothing else."""
    return _no_store(jsonify(status="ok", checks={"process": {"ok": True, "detail": "alive"}}))


@bp.get("/readyz")
def readyz():
    """Database, Redis, a live worker and the default plugin: 503 until all are there."""
    results = readiness.checks()
    ready = all(check.ok for check in results)
    body = {"status": "ready" if ready else "not ready",
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in results}}
    return _no_store(jsonify(body)), 200 if ready else 503


@bp.get("/metrics")
def prometheus_metrics():
    denied = metrics_access.denial()
    if denied is not None:
        return denied
    body, content_type = metrics.exposition(metrics.QueueCollector(readiness.queue_snapshot()))
    return _no_store(Response(body, content_type=content_type))
