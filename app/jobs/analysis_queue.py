"""Handing screenings to the analysis job: enqueue, ensure-enqueued, requeue and the sweep.

This is the thin queue module services may use (like Redash's `enqueue_query` beside
`execute_query`): it names the job by reference and imports nothing from the services, so
services → this module → the job never loops back. The job itself (app/jobs/analysis.py) is
an entry point: it may call services, and it never imports this module.

The row is committed before anything is enqueued: a worker never sees a screening that is not
in the database, and a Redis outage leaves it `pending` (the sweep and `flask screenings
requeue` enqueue it later).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import redis
from flask import current_app, has_request_context
from flask_babel import gettext
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from app.extensions import db
from app.i18n.marker import N_
from app.jobs import periodic
from app.jobs.analysis import analyse_screening, mark_failed, speaker
from app.jobs.queue import get_queue, get_redis, redis_available
from app.models._time import utcnow
from app.models.screening import Screening, ScreeningStatus


def _waiting(screening: Screening, stage: str) -> str:
    """A waiting stage in the language of the patient who reads it: the request's while they
    submit, their account's when the sweep enqueues in the worker."""
    return gettext(stage) if has_request_context() else speaker(screening)(stage)


def enqueue(screening: Screening) -> bool:
    """Hand a committed screening to the workers. False (and `pending`) if Redis is down."""
    job_id = f"screening-{screening.id}-{secrets.token_hex(4)}"
    screening.status = ScreeningStatus.QUEUED
    screening.rq_job_id = job_id
    screening.stage = _waiting(screening, N_("Waiting for a free analyser"))
    screening.progress = 0.0
    screening.progress_at = utcnow()
    db.session.commit()  # before enqueueing: the worker must find the row as `queued`
    config = current_app.config
    try:
        get_queue().enqueue(
            analyse_screening,
            screening.id,
            job_id=job_id,
            job_timeout=config["SCREENING_JOB_TIMEOUT"],
            retry=Retry(max=max(0, config["SCREENING_MAX_ATTEMPTS"] - 1)),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
    except redis.RedisError:
        current_app.logger.warning("Redis unavailable: screening %s stays pending", screening.id)
        screening.status = ScreeningStatus.PENDING
        screening.rq_job_id = None
        screening.stage = _waiting(screening, N_("Waiting for the analysis service"))
        db.session.commit()
        return False
    periodic.ensure_scheduled(SCREENING_SWEEP)
    return True


def ensure_enqueued(screening: Screening) -> bool:
    """Give a `pending` screening another chance (called while its page polls)."""
    if screening.status is not ScreeningStatus.PENDING:
        return False
    # Checked first: a page polling twice a second must not write to the database while Redis is down.
    return redis_available() and enqueue(screening)


def _job_exists(job_id: str | None) -> bool:
    if not job_id:
        return False
    try:
        Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return False
    return True


def requeue_waiting(stale_seconds: int | None = None) -> dict[str, int]:
    """Enqueue `pending` screenings; recover `queued`/`running` ones whose job was lost.

    A `running` screening with no progress for `stale_seconds` lost its worker (killed,
    out of memory, machine restarted): it is enqueued again, or failed with a retryable
    reason once it has used up SCREENING_MAX_ATTEMPTS. Raises redis.RedisError if Redis is down.
    """
    get_redis().ping()
    config = current_app.config
    stale = stale_seconds if stale_seconds is not None else config["SCREENING_STALE_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=stale)
    counts = {"enqueued": 0, "recovered": 0, "failed": 0}
    for screening in db.session.scalars(
        select(Screening).where(Screening.status == ScreeningStatus.PENDING).order_by(Screening.id)
    ):
        counts["enqueued"] += enqueue(screening)
    waiting = db.session.scalars(
        select(Screening)
        .where(
            Screening.status.in_([ScreeningStatus.QUEUED, ScreeningStatus.RUNNING]),
            Screening.progress_at < cutoff,
        )
        .order_by(Screening.id)
    ).all()
    for screening in waiting:
        if screening.status is ScreeningStatus.QUEUED and _job_exists(screening.rq_job_id):
            continue  # still waiting its turn in the queue
        if screening.attempts >= config["SCREENING_MAX_ATTEMPTS"]:
            mark_failed(
                screening,
                N_("The analysis was interrupted several times. You can retry it, or take a new screening."),
            )
            counts["failed"] += 1
            continue
        current_app.logger.warning(
            "screening %s: job %s lost while %s; requeued",
            screening.id,
            screening.rq_job_id,
            screening.status,
        )
        enqueue(screening)
        counts["recovered"] += 1
    return counts


def sweep_screenings() -> dict[str, int]:
    """The periodic job: enqueue pending screenings and recover lost jobs, then schedule the next sweep."""
    counts = requeue_waiting()
    periodic.reschedule(SCREENING_SWEEP)
    return counts


SCREENING_SWEEP = periodic.PeriodicJob("screening-sweep", sweep_screenings, "SCREENING_SWEEP_SECONDS", 120)
