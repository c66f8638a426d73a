"""Result-page variants (several faces, indicator call to action) and the retry action."""

from __future__ import annotations

import pytest
from rq import Queue

from app.extensions import db
from app.models.screening import ScreeningStatus
from app.services import consent
from tests import samples
from tests.helpers import csrf_token, login, only_screening, submit

LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


@pytest.fixture
def screening(client, patient):
    consent.grant(patient)
    login(client, patient)
    assert submit(client, samples.astronaut_jpeg()).status_code == 303
    return only_screening()


def finish(screening, faces, indicator):
    distribution = dict.fromkeys(LABELS, 0.0) | {"sad": 0.7, "neutral": 0.3}
    screening.status = ScreeningStatus.DONE
    screening.face_status = "several" if len(faces) > 1 else ("one" if faces else "none")
    screening.affect_indicator = indicator
    screening.facial_result = {
        "kind": "photo",
        "status": screening.face_status,
        "plugin": {"labels": LABELS},
        "image_size": [512, 512],
        "faces": [{"box": box} for box in faces],
        "summary": {"distribution": distribution, "indicator": indicator} if faces else None,
    }
    db.session.commit()


def test_several_faces_are_named_and_a_high_indicator_suggests_a_doctor(client, screening, app):
    finish(screening, [[100, 80, 120, 150], [300, 90, 60, 70]], indicator=82.0)
    page = client.get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert "We saw 2 faces" in page and "most prominent" in page
    assert page.count('class="face-box') == 2 and "face-box-primary" in page
    assert 'id="doctor-cta"' in page and "facial-affect indicator is high" in page
    installed = any(e in app.view_functions for e in ("consultations.new", "consultations.new_consultation"))
    assert (f"/consultations/new?screening={screening.id}" in page) == installed
    assert "Sadness" in page and "70%" in page


def test_indicator_below_threshold_no_call_to_action(client, screening):
    finish(screening, [[100, 80, 120, 150]], indicator=40.0)
    page = client.get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert 'id="doctor-cta"' not in page and "several-faces" not in page


def test_no_face_gives_tips_and_retake(client, screening):
    finish(screening, [], indicator=None)
    page = client.get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert "We could not find a face in this photo" in page and "light on your face" in page
    assert 'id="retake"' in page


def test_retry_requeues_a_failed_screening(client, screening, app):
    screening.status, screening.failure_reason, screening.attempts = ScreeningStatus.FAILED, "Worker lost.", 3
    db.session.commit()
    token = csrf_token(client, f"/screenings/{screening.id}")
    response = client.post(f"/screenings/{screening.id}/retry", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.refresh(screening)
    assert screening.status is ScreeningStatus.QUEUED and screening.attempts == 0
    assert screening.failure_reason is None
    queue = Queue(app.config["RQ_QUEUE"], connection=app.extensions["moodlens_redis"])
    assert screening.rq_job_id in queue.job_ids
    again = client.post(
        f"/screenings/{screening.id}/retry", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 409 and "Only a failed analysis" in again.get_data(as_text=True)
