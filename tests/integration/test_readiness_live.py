"""/readyz against the real parts it checks: a Redis server the test stops and starts, and a real
`flask worker` process the test starts and stops."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from app.commands import worker as worker_cli
from app.jobs.queue import get_queue, get_redis
from app.jobs.worker import MoodLensWorker
from app.services import readiness
from app.services.queue_health import STALE_AFTER
from tests.worker_process import ROOT, worker_command, worker_env

pytestmark = pytest.mark.slow


def wait_for_readiness(client, status: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.json
            return response.json["checks"]
        time.sleep(0.5)


def wait_for_heartbeat_since(app, moment: float, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            ages = [beat.heartbeat_age for beat in readiness.workers() if beat.heartbeat_age is not None]
        if ages and min(ages) < time.monotonic() - moment:
            return
        time.sleep(0.5)
    raise AssertionError("the worker sent no heartbeat after Redis came back")


def test_an_idle_worker_beats_often_enough_to_stay_ready():
    assert worker_cli.WORKER_TTL - 15 < STALE_AFTER.total_seconds()


def start_worker(app) -> subprocess.Popen:
    return subprocess.Popen(worker_command("--name", "readiness-worker"), env=worker_env(app), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)  # a warm shutdown: the worker deregisters itself
    worker.wait(timeout=30)


def test_readyz_follows_redis_and_the_worker(app_factory, private_redis):
    app = app_factory(REDIS_URL=private_redis.url)
    client = app.test_client()

    checks = wait_for_readiness(client, 503, timeout=0)
    assert checks["workers"] == {"ok": False, "detail": "no worker with a fresh heartbeat"}
    assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["plugin"]["ok"]

    worker = start_worker(app)
    try:
        checks = wait_for_readiness(client, 200)
        assert all(check["ok"] for check in checks.values())

        private_redis.stop()
        checks = wait_for_readiness(client, 503, timeout=5)
        assert checks["redis"] == {"ok": False, "detail": "unreachable"}
        assert not checks["workers"]["ok"] and checks["database"]["ok"]
        assert client.get("/healthz").status_code == 200  # alive, even without its dependencies

        restarted = time.monotonic()
        private_redis.start()  # its data (the worker's registration) comes back from disk
        wait_for_readiness(client, 200)
        assert worker.poll() is None, "the worker should survive a Redis restart"
        wait_for_heartbeat_since(app, restarted)  # reconnected, not just remembered

        stop(worker)
        checks = wait_for_readiness(client, 503, timeout=5)
        assert checks["workers"]["ok"] is False and checks["redis"]["ok"]

        worker = start_worker(app)
        wait_for_readiness(client, 200)
    finally:
        if worker.poll() is None:
            stop(worker)


def test_the_steps_between_jobs_wait_out_a_redis_outage(app_factory, private_redis, caplog):
    """The race the live test above can hit: Redis goes away while the worker is between two
    dequeues (suspension check, registry cleaning, heartbeat). Each step is skipped with a warning,
    not the end of the worker, and the worker carries on once Redis is back."""
    app = app_factory(REDIS_URL=private_redis.url)
    with app.app_context():
        worker = MoodLensWorker([get_queue()], connection=get_redis(), app=app, name="outage-worker")
        worker.register_birth()
        private_redis.stop()
        worker.check_for_suspension(burst=False)
        worker.run_maintenance_tasks()
        worker.heartbeat()
        assert worker.last_cleaned_at is None  # the cleaning runs again on the next pass
        messages = [record.getMessage() for record in caplog.records]
        skipped = [message for message in messages if "Redis unreachable" in message]
        assert [message.split(" skipped")[0] for message in skipped] == [
            "worker: the suspension check", "worker: registry maintenance", "worker: the heartbeat"]

        private_redis.start()
        worker.run_maintenance_tasks()
        assert worker.last_cleaned_at is not None
        worker.register_death()
