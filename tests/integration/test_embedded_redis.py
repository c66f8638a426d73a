"""The embedded Redis: one server per instance folder, shared by every process, stoppable."""

import redis

from app import embedded_redis
from app.jobs.queue import get_redis


def test_embedded_server_is_started_once_and_shared(tmp_path):
    instance = tmp_path / "instance"
    try:
        url = embedded_redis.ensure_running(instance)
        assert url == embedded_redis.ensure_running(instance)  # second caller finds the first
        client = redis.Redis.from_url(url)
        client.set("k", "v")
        assert redis.Redis.from_url(url).get("k") == b"v"
        assert (instance / "redis" / "redis.pid").exists()
    finally:
        assert embedded_redis.shutdown(instance)
    assert not embedded_redis.shutdown(instance)


def test_app_without_redis_url_uses_embedded_server(app_factory, tmp_path):
    app = app_factory(REDIS_URL=None)
    try:
        assert app.config["REDIS_URL"].startswith("unix://")
        assert not (app.config["INSTANCE_PATH"] / "redis" / "redis.pid").exists()  # not before use
        with app.app_context():
            assert get_redis().ping()
        assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis+unix://")
    finally:
        embedded_redis.shutdown(app.config["INSTANCE_PATH"])
