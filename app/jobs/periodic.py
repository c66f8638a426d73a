"""Periodic jobs (sweeps) on RQ's own scheduler — no cron outside the app.

Each periodic job re-schedules itself when it ends. A lease key in Redis, which expires by
itself after three intervals, makes sure only one run is scheduled at a time, however many
web nodes and workers call `ensure_scheduled`; if Redis was wiped, the next call (a worker
starting, or a service enqueuing work) schedules it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import redis
from flask import current_app

from app.jobs.queue import get_queue, get_redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    function: str  # dotted path, so scheduling imports nothing heavy
    interval_setting: str  # config key, in seconds; 0 or less turns the job off
    timeout: int


PERIODIC_JOBS = {
    "screening-sweep": PeriodicJob("app.jobs.analysis_queue.sweep_screenings", "SCREENING_SWEEP_SECONDS",
                                   120),
    "care-sweep": PeriodicJob("app.jobs.notifications.care_sweep", "CARE_SWEEP_SECONDS", 300),
    "evidence-refresh": PeriodicJob("app.jobs.evidence.refresh_evidence", "EVIDENCE_REFRESH_SECONDS", 600),
    "training-sweep": PeriodicJob("app.jobs.training.sweep_lost_training_runs", "TRAINING_SWEEP_SECONDS", 60),
    "held-upload-sweep": PeriodicJob("app.jobs.held_uploads.sweep_held_uploads", "HELD_UPLOAD_SWEEP_SECONDS",
                                     120),
}


def lease_key(name: str) -> str:
    return f"moodlens:periodic:{name}"


def ensure_scheduled(name: str) -> bool:
    """Schedule the next run of `name` unless one is scheduled already; False if not scheduled."""
    job = PERIODIC_JOBS[name]
    interval = int(current_app.config[job.interval_setting])
    if interval <= 0:
        return False
    try:
        if not get_redis().set(lease_key(name), "1", nx=True, ex=interval * 3):
            return False
        get_queue().enqueue_in(timedelta(seconds=interval), job.function,
                               job_timeout=job.timeout, result_ttl=600)
    except redis.RedisError:
        log.warning("could not schedule %s", name, exc_info=True)
        return False
    return True


def reschedule(name: str) -> None:
    """Called by a periodic job as it ends: release its lease and schedule the next run."""

    try:
        get_redis().delete(lease_key(name))
    except redis.RedisError:
        log.warning("could not release the lease of %s", name, exc_info=True)
        return
    ensure_scheduled(name)


def ensure_all_scheduled() -> None:
    for name in PERIODIC_JOBS:
        ensure_scheduled(name)
