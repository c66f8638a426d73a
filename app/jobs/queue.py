"""The Redis connection and RQ queue of the current app."""

from __future__ import annotations

import redis
from flask import current_app, has_request_context
from rq import Queue

from app import embedded_redis
from app.observability.logs import current_request_id


class MoodLensQueue(Queue):
    """Jobs enqueued while serving a web request carry its id (job.meta["request_id"]), so the
    worker's log lines for that job can be matched with the request's."""

    def create_job(self, *args, meta: dict | None = None, **kwargs):
        request_id = current_request_id() if has_request_context() else None
        if request_id:
            meta = {"request_id": request_id, **(meta or {})}
        return super().create_job(*args, meta=meta, **kwargs)


def get_redis() -> redis.Redis:
    if current_app.config.get("EMBEDDED_REDIS"):
        embedded_redis.ensure_started_once(current_app.config["INSTANCE_PATH"])
    return current_app.extensions["moodlens_redis"]


def get_queue() -> Queue:
    return MoodLensQueue(current_app.config["RQ_QUEUE"], connection=get_redis(),
                         default_timeout=current_app.config["JOB_TIMEOUT_SECONDS"])


def redis_available() -> bool:
    try:
        return bool(get_redis().ping())
    except redis.RedisError:
        return False
