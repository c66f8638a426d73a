"""Operators' view of MoodLens: JSON logs with request ids, Prometheus metrics, job hooks."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from flask import Flask, g, request

log = logging.getLogger("moodlens.requests")
REQUEST_ID_HEADER = "X-Request-ID"


def register(app: Flask) -> None:
    from app.observability import logs

    if not app.testing:  # under pytest, pytest owns logging
        logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:  # prometheus_client writes its value files there from the first metric on
        Path(directory).mkdir(parents=True, exist_ok=True)
    from app.observability import metrics

    @app.before_request
    def start_request():
        g.request_started = time.perf_counter()
        g.request_id = logs.new_request_id(request.headers.get(REQUEST_ID_HEADER))
        logs.request_id_var.set(g.request_id)

    @app.after_request
    def finish_request(response):
        started = g.pop("request_started", None)
        if started is None:  # a request refused before `start_request` ran
            return response
        elapsed = time.perf_counter() - started
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        metrics.REQUEST_LATENCY.labels(endpoint, request.method, str(response.status_code)).observe(elapsed)
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if endpoint != "static":
            # The path, never the query string (a search may hold a name or an address).
            log.info("%s %s %s", request.method, request.path, response.status_code,
                     extra={"event": "request", "endpoint": endpoint, "method": request.method,
                            "path": request.path, "status": response.status_code,
                            "duration_ms": round(elapsed * 1000, 1)})
        return response

    @app.teardown_request
    def forget_request_id(_error=None):
        logs.request_id_var.set(None)  # the thread serves other requests next

