"""Decompression-bomb clips through the real upload route and the real RQ worker: refused with the
patient-readable message, at upload when the first frame is huge, in the worker when the clip
switches to huge frames later (FFmpeg's max_pixels, from MAX_VIDEO_FRAME_PIXELS)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.screening import Screening, ScreeningStatus
from app.services import consent
from tests import factories
from tests.helpers import login, new_patient_client, submit
from tests.ml import hostile_clips
from tests.worker_process import load, run_burst_worker, take


def test_a_clip_with_huge_frames_is_refused_at_upload(app, client, patient):
    consent.grant(patient)
    login(client, patient)
    response = submit(client, hostile_clips.huge_from_the_start(), filename="clip.webm")
    assert response.status_code in (400, 413, 422)
    assert "picture size is too large" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Screening.id))) == 0


def test_the_limit_comes_from_configuration(app_factory, redis_url):
    app = app_factory(MAX_VIDEO_FRAME_PIXELS=32 * 32)
    with app.app_context():
        patient = factories.patient()
        consent.grant(patient)
        client = app.test_client()
        login(client, patient)
        response = submit(client, hostile_clips.honest(), filename="clip.webm")
        assert "picture size is too large" in response.get_data(as_text=True)


@pytest.mark.slow
def test_a_clip_switching_to_huge_frames_fails_in_the_worker(worker_app):  # noqa: F811
    client = new_patient_client(worker_app)
    screening_id = take(worker_app, client, hostile_clips.huge_mid_stream(), filename="clip.webm")
    run_burst_worker(worker_app)
    with worker_app.app_context():
        screening = load(worker_app, screening_id)
        assert screening.status is ScreeningStatus.FAILED
        assert "picture size is too large" in (screening.failure_reason or "")
