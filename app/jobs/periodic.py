"""Periodic jobs (sweeps) on RQ's own scheduler — no cron outside the app.

Each periodic job re-schedules itself when it ends. A lease key in Redis, which expires by
itself after three intervals, makes sure only one run is scheduled at a time, however many
web nodes and workers call `ensure_scheduled`; if Redis was wiped, the next call (a worker
starting, or a service enqueuing work) schedules it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis
from flask import current_app

from app.jobs.queue import get_queue, get_redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A sweep, declared beside its function by the module that owns it; the worker lists them
    all (app/jobs/worker.py)."""

    name: str  # names its lease
    function: Callable
    interval_setting: str  # config key, in seconds; 0 or less turns the job off
    timeout: int


def lease_key(name: str) -> str:
    return f"moodlens:periodic:{name}"


def ensure_scheduled(job: PeriodicJob) -> bool:
    """Schedule the next run of `job` unless one is scheduled already; False if not scheduled."""
    interval = int(current_app.config[job.interval_setting])
    if interval <= 0:
        return False
    try:
        if not get_redis().set(lease_key(job.name), "1", nx=True, ex=interval * 3):
            return False
        get_queue().enqueue_in(timedelta(seconds=interval), job.function,
                               job_timeout=job.timeout, result_ttl=600)
    except redis.RedisError:
        log.warning("could not schedule %s", job.name, exc_info=True)
        return False
    return True


def reschedule(job: PeriodicJob) -> None:
    """Called by a periodic job as it ends: release its lease and schedule the next run."""

    try:
        get_redis().delete(lease_key(job.name))
    except redis.RedisError:
        log.warning("could not release the lease of %s", job.name, exc_info=True)
        return
    ensure_scheduled(job)
