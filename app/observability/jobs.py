"""The worker's side of observability: each job runs under the request id of the web request
that enqueued it (for the log lines it writes) and is counted and timed when it ends."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

from app.extensions import db
from app.models.screening import Screening, ScreeningStatus
from app.observability import logs, metrics

log = logging.getLogger("moodlens.jobs")
ANALYSIS_FUNCTION = "app.jobs.analysis.analyse_screening"


@contextmanager
def observed(job):
    logs.request_id_var.set(job.meta.get("request_id"))
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        try:
            _record(job, elapsed)
        except Exception:  # counting must never take the worker down
            log.warning("could not record metrics for job %s", job.id, exc_info=True)
        logs.request_id_var.set(None)


def _record(job, elapsed: float) -> None:
    status = job.get_status(refresh=True)
    status = str(getattr(status, "value", status))
    metrics.JOBS.labels(job.func_name, status).inc()
    log.info("job %s %s", job.id, status, extra={"event": "job", "job_id": job.id, "status": status,
                                                  "duration_ms": round(elapsed * 1000, 1)})
    if job.func_name == ANALYSIS_FUNCTION and job.args:
        _record_analysis(job, status, elapsed)


def _record_analysis(job, status: str, elapsed: float) -> None:
    db.session.rollback()  # read what the job committed, not a stale session
    screening = db.session.get(Screening, job.args[0])
    if screening is None:
        return
    labels = (screening.plugin_name, screening.kind.value)
    result = job.return_value() if status == "finished" else None
    if result == "done":
        outcome = "done"
        metrics.SCREENINGS_FINISHED.labels(*labels).inc()
    elif result == "failed" or (status == "failed" and screening.status is ScreeningStatus.FAILED):
        outcome = "failed"  # bad media, or the last attempt's error
        metrics.SCREENINGS_FAILED.labels(*labels).inc()
    else:
        outcome = "retry" if status != "finished" else "skipped"  # skipped: already done, superseded
    metrics.ANALYSIS_DURATION.labels(*labels, outcome).observe(elapsed)
