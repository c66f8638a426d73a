"""Is this node ready to serve? The checks behind /readyz, and the queue figures /metrics reads.

Each check is cheap (a query, a ping, reading worker keys) and never loads a model: the plugin
check asks the registry whether the default plugin's weights and dependencies are present.
Details are short and generic — /readyz is unauthenticated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from rq import Worker
from rq.registry import DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.jobs.queue import get_queue
from app.services.plugin_settings import default_plugin_name, serving_problem
from app.services.queue_health import STALE_AFTER

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class WorkerBeat:
    name: str
    state: str
    heartbeat_age: float | None  # seconds

    @property
    def alive(self) -> bool:
        # A SimpleWorker sends no heartbeat while it runs a job: a busy one counts as alive.
        return self.heartbeat_age is not None and (
            self.heartbeat_age <= STALE_AFTER.total_seconds() or self.state == "busy")


def checks() -> list[Check]:
    database = _database()
    redis_check, workers_check = _redis_and_workers()
    return [database, redis_check, workers_check, _default_plugin(database.ok)]


def _database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("readiness: database unreachable")
        return Check("database", False, "unreachable")
    return Check("database", True, "reachable")


def workers() -> list[WorkerBeat]:
    """The workers registered on this deployment's queue. Raises redis.RedisError."""
    now = datetime.now(UTC)
    beats = []
    for worker in Worker.all(queue=get_queue()):
        beat = worker.last_heartbeat
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        beats.append(WorkerBeat(worker.name, str(worker.get_state()),
                                (now - beat).total_seconds() if beat else None))
    return beats


def _redis_and_workers() -> tuple[Check, Check]:
    try:
        queue = get_queue()
        queue.connection.ping()
        alive = [beat for beat in workers() if beat.alive]
    except redis.RedisError:
        log.warning("readiness: Redis unreachable")
        return Check("redis", False, "unreachable"), Check("workers", False, "unknown: Redis unreachable")
    if not alive:
        worker_check = Check("workers", False, "no worker with a fresh heartbeat")
    else:
        worker_check = Check("workers", True, f"{len(alive)} alive")
    return Check("redis", True, "reachable"), worker_check


def _default_plugin(database_ok: bool) -> Check:
    if not database_ok:
        return Check("plugin", False, "unknown: database unreachable")
    name = default_plugin_name()
    if serving_problem(name) is not None:  # the reason names server paths: it stays in the console
        return Check("plugin", False, f"default plugin {name} unavailable")
    return Check("plugin", True, f"default plugin {name} available")


@dataclass(frozen=True)
class QueueSnapshot:
    """Queue lengths and worker heartbeats, read at scrape time (any worker, any machine)."""

    queue: str
    reachable: bool
    jobs: dict[str, int]
    workers: list[WorkerBeat]


def queue_snapshot() -> QueueSnapshot:
    queue = get_queue()
    try:
        jobs = {
            "queued": queue.count,
            "started": StartedJobRegistry(queue=queue).count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
            "deferred": DeferredJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
        }
        return QueueSnapshot(queue.name, True, jobs, workers())
    except redis.RedisError:
        return QueueSnapshot(queue.name, False, {}, [])
