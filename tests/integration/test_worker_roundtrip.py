"""A job enqueued through the real Redis is executed by a real `flask worker` process."""

import os
import subprocess
import sys
from pathlib import Path

from rq import Queue
from rq.job import JobStatus

from app.jobs import health
from app.jobs.queue import get_queue, get_redis, redis_available
from app.jobs.worker import MoodLensWorker
from tests.worker_process import stop_worker, worker_env

ROOT = Path(__file__).resolve().parents[2]


def test_health_job_round_trip_through_a_worker_process(app):
    assert redis_available()
    job = get_queue().enqueue(health.ping, "hello")
    assert job.get_status() == JobStatus.QUEUED
    result = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker", "--burst", "--no-preload"],
        env=worker_env(app), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value()["token"] == "hello"
    assert job.return_value()["worker_pid"] != os.getpid()


def test_worker_does_not_fork_and_runs_jobs_in_app_context(app):
    from flask import current_app

    def in_context():
        return current_app.name

    queue = Queue(app.config["RQ_QUEUE"], connection=get_redis())
    job = queue.enqueue(health.ping, "same-process")
    worker = MoodLensWorker([queue], connection=get_redis(), app=app)
    worker.work(burst=True)
    assert job.return_value()["worker_pid"] == os.getpid()  # SimpleWorker: no fork per job
    assert in_context() == app.name


def test_ping_worker_command_reports_a_live_worker_and_a_missing_one(app):
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["ping-worker", "--timeout", "1"])
    assert missing.exit_code != 0 and "no worker answered" in missing.output

    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker", "--no-preload"],
        env=worker_env(app), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answered = runner.invoke(args=["ping-worker", "--timeout", "60"])
        assert answered.exit_code == 0, answered.output
        assert "worker answered: pid" in answered.output
    finally:
        stop_worker(worker)
