"""Screenings analysed by a real `flask worker` subprocess on real face photos and clips.

Real Redis (a private embedded server the tests stop and start), real database, real models.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from app.extensions import db
from app.jobs import analysis_queue
from app.models.screening import ScreeningFrame, ScreeningStatus
from app.storage import media_store
from tests import samples
from tests.helpers import new_patient_client
from tests.worker_process import load, run_burst_worker, start_worker, stop_worker, take

pytestmark = pytest.mark.slow


def test_photos_and_clip_analysed_by_a_real_worker_even_after_a_redis_outage(worker_app, private_redis):
    app, client = worker_app, new_patient_client(worker_app)
    photo = take(app, client, samples.astronaut_jpeg(), answers=(1, 1, 1, 1, 1, 1, 1, 1, 2))
    clip = take(app, client, samples.clip_webm(seconds=2.0, fps=10))
    faceless = take(app, client, samples.landscape_png())
    broken = take(app, client, samples.astronaut_jpeg(with_gps=False))
    private_redis.stop()
    during_outage = take(app, client, samples.astronaut_jpeg(with_gps=False))
    with app.app_context():
        assert load(app, during_outage).status is ScreeningStatus.PENDING
        # A plugin that does not exist on this server: a failed status with a reason, and the
        # worker carries on with the next job.
        row = load(app, broken)
        row.plugin_name = "no-such-plugin"
        db.session.commit()
    private_redis.start()
    # The page of the pending screening polls; its next poll enqueues it.
    assert (
        client.get(f"/screenings/{during_outage}/status", headers={"HX-Request": "true"}).status_code == 200
    )

    log = run_burst_worker(app)

    with app.app_context():
        result = load(app, photo)
        assert result.status is ScreeningStatus.DONE, (result.failure_reason, log[-2000:])
        assert result.face_status == "one" and result.facial_result["summary"]["dominant"] == "happy"
        assert 0 <= result.affect_indicator < 30  # a broad smile
        assert result.attempts == 1 and result.progress == 1.0 and result.plugin_version
        assert media_store.load(result.crop_path).startswith(b"\xff\xd8\xff")
        assert result.gradcam_path is None  # rendered when a doctor first opens it
        assert result.media_path  # MEDIA_RETENTION=keep by default

        result = load(app, clip)
        assert result.status is ScreeningStatus.DONE, result.failure_reason
        frames = db.session.scalars(
            db.select(ScreeningFrame).where(ScreeningFrame.screening_id == clip)
        ).all()
        assert len(frames) == 20 and sum(f.face_found for f in frames) >= 18
        assert result.facial_result["frames_decoded"] == 20 and result.affect_indicator is not None

        result = load(app, faceless)
        assert result.status is ScreeningStatus.DONE and result.face_status == "none"
        assert result.affect_indicator is None

        result = load(app, broken)
        assert result.status is ScreeningStatus.FAILED and "not available" in result.failure_reason

        assert load(app, during_outage).status is ScreeningStatus.DONE

    page = client.get(f"/screenings/{photo}").get_data(as_text=True)
    assert 'id="crisis-panel"' in page and 'id="emotion-chart"' in page and "Happiness" in page
    assert 'id="affect-indicator"' in page and "hx-trigger" not in page
    assert client.get(f"/screenings/{photo}/media/crop").data.startswith(b"\xff\xd8\xff")
    page = client.get(f"/screenings/{clip}").get_data(as_text=True)
    assert 'id="timeline-chart"' in page and "<polyline" in page
    page = client.get(f"/screenings/{faceless}").get_data(as_text=True)
    assert 'id="no-face"' in page and "Retake" in page
    api = client.get(f"/api/v1/screenings/{clip}").get_json()
    assert api["status"] == "done" and len(api["facial"]["frames"]) == 20 and api["phq9"]["band"] == "minimal"
    fragment = client.get(f"/screenings/{broken}/status", headers={"HX-Request": "true"})
    assert fragment.status_code == 286 and "Retry analysis" in fragment.get_data(as_text=True)


def wait_for_status(app, screening_id: int, status: ScreeningStatus, worker: subprocess.Popen, timeout=120):
    deadline = time.monotonic() + timeout
    with app.app_context():
        while (current := load(app, screening_id).status) is not status:
            assert time.monotonic() < deadline, f"still {current} after {timeout} s"
            assert worker.poll() is None, "the worker died"
            time.sleep(0.1)


def test_worker_killed_mid_job_is_recovered_by_the_sweep(worker_app):
    app, client = worker_app, new_patient_client(worker_app)
    clip = take(app, client, samples.clip_webm(seconds=6.0, fps=15))
    worker = start_worker(app)
    try:
        wait_for_status(app, clip, ScreeningStatus.RUNNING, worker)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    with app.app_context():
        assert load(app, clip).status is ScreeningStatus.RUNNING
        # Recent progress: not (yet) considered lost.
        assert analysis_queue.requeue_waiting(stale_seconds=3600)["recovered"] == 0
    # A new worker's periodic sweep finds the row silent for > 3 s, requeues it, and analyses it.
    worker = start_worker(app)
    try:
        wait_for_status(app, clip, ScreeningStatus.DONE, worker)
    finally:
        stop_worker(worker)
    with app.app_context():
        result = load(app, clip)
        assert result.attempts == 2 and len(result.frames) == 90 and result.failure_reason is None


def test_retention_delete_removes_the_raw_upload_after_analysis(app_factory):
    """The job itself, run in this process: MEDIA_RETENTION=delete keeps results, drops the upload."""
    from app.jobs.analysis import analyse_screening

    app = app_factory(MEDIA_RETENTION="delete", RATELIMIT_ENABLED=False)
    client = new_patient_client(app)
    screening_id = take(app, client, samples.astronaut_jpeg())
    with app.app_context():
        upload = media_store.media_root() / load(app, screening_id).media_path
        assert upload.exists()
        assert analyse_screening(screening_id) == "done"
        result = load(app, screening_id)
        assert result.status is ScreeningStatus.DONE and result.media_path is None and not upload.exists()
        assert result.crop_path and media_store.load(result.crop_path).startswith(b"\xff\xd8\xff")
        assert analyse_screening(screening_id) == "already done"  # a duplicate delivery is harmless
    page = client.get(f"/screenings/{screening_id}").get_data(as_text=True)
    assert 'class="frame-background"' in page and "/media/photo" not in page
    assert client.get(f"/screenings/{screening_id}/media/photo").status_code == 404
