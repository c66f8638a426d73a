"""The state of the job queue and its workers, read from RQ's registries in Redis."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from flask_babel import gettext as _
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

from app.extensions import db
from app.jobs.queue import get_queue
from app.security import audit
from app.services.errors import ServiceError

FAILED_SHOWN = 50
# A worker that has not beaten for this long is probably gone (a SimpleWorker sends no
# heartbeat while it runs a job, so one busy worker may look quiet for a while).
STALE_AFTER = timedelta(minutes=2)


class QueueError(ServiceError):
    status = 409


class UnknownJobError(QueueError):
    status = 404


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    state: str
    heartbeat_age: timedelta | None
    current_job: str | None
    successful_jobs: int
    failed_jobs: int

    @property
    def stale(self) -> bool:
        return self.heartbeat_age is None or (self.heartbeat_age > STALE_AFTER and self.state != "busy")


@dataclass(frozen=True)
class FailedJob:
    id: str
    function: str | None
    failed_at: datetime | None
    error: str


@dataclass(frozen=True)
class QueueHealth:
    reachable: bool
    queue_name: str
    queued: int = 0
    running: list[str] | None = None
    workers: list[WorkerInfo] | None = None
    failed: list[FailedJob] | None = None
    failed_total: int = 0
    finished_last_hour: int = 0
    average_seconds_last_hour: float | None = None
    error: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no error recorded)"


def health() -> QueueHealth:
    queue = get_queue()
    try:
        return _health(queue)
    except redis.RedisError as error:
        return QueueHealth(reachable=False, queue_name=queue.name, error=str(error))


def _health(queue) -> QueueHealth:
    connection = queue.connection
    now = _now()
    workers = []
    for worker in Worker.all(queue=queue):
        beat = _aware(worker.last_heartbeat)
        workers.append(WorkerInfo(
            name=worker.name,
            state=str(worker.get_state()),
            heartbeat_age=now - beat if beat else None,
            current_job=worker.get_current_job_id(),
            successful_jobs=worker.successful_job_count,
            failed_jobs=worker.failed_job_count,
        ))

    failed_registry = FailedJobRegistry(queue=queue)
    failed_ids = failed_registry.get_job_ids(desc=True)
    failed = []
    for job in Job.fetch_many(failed_ids[:FAILED_SHOWN], connection=connection):
        if job is None:
            continue
        result = job.latest_result()
        error = result.exc_string if result is not None and result.exc_string else job.exc_info
        failed.append(FailedJob(id=job.id, function=job.func_name, failed_at=_aware(job.ended_at),
                                error=_last_line(error)))

    durations = []
    finished_ids = FinishedJobRegistry(queue=queue).get_job_ids()
    for job in Job.fetch_many(finished_ids, connection=connection):
        started, ended = (_aware(job.started_at), _aware(job.ended_at)) if job else (None, None)
        if started and ended and now - ended <= timedelta(hours=1):
            durations.append((ended - started).total_seconds())

    return QueueHealth(
        reachable=True,
        queue_name=queue.name,
        queued=queue.count,
        running=StartedJobRegistry(queue=queue).get_job_ids(),
        workers=sorted(workers, key=lambda w: w.name),
        failed=failed,
        failed_total=len(failed_ids),
        finished_last_hour=len(durations),
        average_seconds_last_hour=sum(durations) / len(durations) if durations else None,
    )


def retry_failed(job_id: str, actor_id: int | None) -> Job:
    """Put a failed job back on its queue; audited."""
    queue = get_queue()
    registry = FailedJobRegistry(queue=queue)
    try:
        job = registry.requeue(job_id)
    except (NoSuchJobError, InvalidJobOperation) as error:
        raise UnknownJobError(_("That job is not (or no longer) in the failed-jobs list.")) from error
    audit.record("queue.retry", actor_id=actor_id, target=f"job:{job_id}"[:120],
                 details={"function": job.func_name})
    db.session.commit()
    return job
