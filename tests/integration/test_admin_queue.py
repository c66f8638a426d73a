"""/admin/queue: queue length, running jobs, workers, failed jobs with retry, average time."""

from __future__ import annotations

from rq import Worker
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import get_queue, get_redis
from app.jobs.worker import MoodLensWorker
from app.models.audit import AuditEvent
from app.services import queue_health
from tests.helpers import csrf_token


def _run_burst(app) -> None:
    MoodLensWorker([get_queue()], connection=get_redis(), app=app, name="burst-worker").work(burst=True)


def test_health_counts_failures_and_average_time(app, admin_client):
    queue = get_queue()
    queue.enqueue("app.jobs.health.ping", "ok")
    failing = queue.enqueue("app.jobs.health.ping")  # missing argument: a TypeError in the worker
    _run_burst(app)
    queue.enqueue("app.jobs.health.ping", "waiting")

    health = queue_health.health()
    assert health.reachable and health.queued == 1 and health.running == []
    assert health.failed_total == 1 and health.failed[0].id == failing.id
    assert "TypeError" in health.failed[0].error
    assert health.finished_last_hour == 1 and health.average_seconds_last_hour is not None

    html = admin_client.get("/admin/queue").get_data(as_text=True)
    assert f'id="job-{failing.id}"' in html and "TypeError" in html
    assert 'id="queued">1<' in html and 'id="failed-total">1<' in html
    assert "No worker is running" in html


def test_live_worker_shows_with_its_heartbeat(app, admin_client):
    worker = Worker([get_queue()], connection=get_redis(), name="ward-7-worker")
    worker.register_birth()
    try:
        worker.heartbeat()
        health = queue_health.health()
        assert [w.name for w in health.workers] == ["ward-7-worker"]
        assert not health.workers[0].stale and health.workers[0].heartbeat_age.total_seconds() < 30
        fragment = admin_client.get("/admin/queue", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert fragment.lstrip().startswith('<div id="queue-status"') and "ward-7-worker" in fragment
        assert 'id="workers-alive">1<' in fragment
    finally:
        worker.register_death()


def test_retry_puts_a_failed_job_back_and_is_audited(app, admin_client, admin):
    failing = get_queue().enqueue("app.jobs.health.ping")
    _run_burst(app)
    token = csrf_token(admin_client, "/admin/queue")
    response = admin_client.post(f"/admin/queue/failed/{failing.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert get_queue().job_ids == [failing.id] and queue_health.health().failed_total == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "queue.retry")).one()
    assert (event.actor_id, event.target) == (admin.id, f"job:{failing.id}")

    again = admin_client.post(f"/admin/queue/failed/{failing.id}/retry", data={"csrf_token": token})
    assert again.status_code == 404 and "not (or no longer)" in again.get_data(as_text=True)
    assert admin_client.post("/admin/queue/failed/nope/retry", data={"csrf_token": token}).status_code == 404
    assert admin_client.post(f"/admin/queue/failed/{failing.id}/retry").status_code == 400  # no CSRF


def test_unreachable_redis_is_reported_not_a_500(app_factory):
    broken = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    with broken.app_context():
        health = queue_health.health()
    assert not health.reachable and health.error
