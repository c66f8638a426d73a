"""Grad-CAM overlays on demand: the first doctor to open a screening's map has it rendered.

The map is a clinician's aid, so the analysis does not spend time (nor TensorFlow) on it.
Asking for it enqueues one job per screening (a fixed job id, so doctors opening the
page at once do not render it twice) and the page polls `state()` until it is ready.
"""

from __future__ import annotations

import redis
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.jobs.queue import get_queue, get_redis
from app.models.screening import Screening, ScreeningStatus

READY = "ready"
PENDING = "pending"
UNAVAILABLE = "unavailable"  # no face, or a classifier that cannot explain itself
FAILED = "failed"
OFFLINE = "offline"  # Redis unreachable: asked again at the next poll

JOB = "app.jobs.activation_map.render_activation_map"
JOB_TIMEOUT = 180  # a cold TensorFlow import and model load take a few seconds on 2 cores
# A failed render is not retried for this long (its job is kept, and so is the answer).
FAILURE_TTL = 600


def job_id(screening: Screening) -> str:
    return f"activation-map-{screening.id}"


def state(screening: Screening) -> str:
    """READY, PENDING (rendering enqueued now or earlier), UNAVAILABLE, FAILED or OFFLINE."""
    if screening.gradcam_path:
        return READY
    if screening.status is not ScreeningStatus.DONE or not screening.crop_path:
        return UNAVAILABLE
    try:
        connection = get_redis()
        try:
            job = Job.fetch(job_id(screening), connection=connection)
        except NoSuchJobError:
            job = None
        if job is not None:
            status = job.get_status(refresh=False)
            if status == JobStatus.FAILED:
                return FAILED
            if status != JobStatus.FINISHED:
                return PENDING
            if job.return_value() != "done":
                return UNAVAILABLE
            # Finished and yet no path on the row (e.g. the map was deleted): render again.
            job.delete()
        get_queue().enqueue(
            JOB,
            screening.id,
            job_id=job_id(screening),
            job_timeout=JOB_TIMEOUT,
            result_ttl=3600,
            failure_ttl=FAILURE_TTL,
        )
    except redis.RedisError:
        current_app.logger.warning("Redis unavailable: activation map of screening %s waits", screening.id)
        return OFFLINE
    return PENDING
