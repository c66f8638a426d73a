"""The Redis connection and RQ queue of the current app."""

from __future__ import annotations

import redis
from flask import current_app
from rq import Queue

from app import embedded_redis


def get_redis() -> redis.Redis:
    if current_app.config.get("EMBEDDED_REDIS"):
        embedded_redis.ensure_started_once(current_app.config["INSTANCE_PATH"])
    return current_app.extensions["moodlens_redis"]


def get_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis(),
                 default_timeout=current_app.config["JOB_TIMEOUT_SECONDS"])


def redis_available() -> bool:
    try:
        return bool(get_redis().ping())
    except redis.RedisError:
        return False
