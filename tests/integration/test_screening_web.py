"""The screening journey up to the queue: consent, upload checks, storage, access, JSON, Redis outage.

Real database and real Redis (no worker here: see test_screening_worker.py).
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from PIL import Image
from rq import Queue

from app import embedded_redis
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.screening import Screening, ScreeningStatus
from app.services import consent
from app.storage import media_store
from tests import factories, samples
from tests.helpers import CALM_ANSWERS, csrf_token, form_data, login, only_screening, submit


@pytest.fixture
def consented(client, patient):
    consent.grant(patient)
    login(client, patient)
    return patient


def test_consent_is_asked_first_and_can_be_withdrawn(client, patient):
    login(client, patient)
    response = client.get("/screenings/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/screenings/consent")
    page = client.get("/screenings/consent").get_data(as_text=True)
    assert "not a diagnosis" in page and "Who can see it" in page
    client.post("/screenings/consent", data={"csrf_token": csrf_token(client, "/screenings/consent")})
    record = consent.active_screening_consent(patient)
    assert record is not None and record.text_version == client.application.config["CONSENT_VERSION"]
    assert client.get("/screenings/new").status_code == 200
    client.post(
        "/screenings/consent/withdraw", data={"csrf_token": csrf_token(client, "/screenings/consent")}
    )
    assert consent.active_screening_consent(patient) is None
    assert record.withdrawn_at is not None  # closed, never deleted
    assert submit(client, samples.astronaut_jpeg()).status_code == 302  # back to the consent page
    assert db.session.scalar(db.select(db.func.count(Screening.id))) == 0


def test_photo_is_stored_encrypted_without_metadata_then_enqueued(client, consented, redis_url):
    response = submit(client, samples.astronaut_jpeg(), filename="holiday.png")
    assert response.status_code == 303
    screening = only_screening()
    assert response.headers["Location"].endswith(f"/screenings/{screening.id}")
    assert screening.kind == "photo" and screening.status is ScreeningStatus.QUEUED
    assert screening.plugin_name == "fer2013-mini-xception"
    assert (screening.phq9_total, screening.phq9_band, screening.urgent) == (3, "minimal", False)
    raw = (media_store.media_root() / screening.media_path).read_bytes()
    assert b"\xff\xd8\xff" not in raw[:16] and b"PhoneMaker" not in raw
    stored = Image.open(io.BytesIO(media_store.load(screening.media_path)))
    assert stored.format == "JPEG" and not stored.getexif() and stored.size == (512, 512)
    queue = Queue(
        client.application.config["RQ_QUEUE"], connection=client.application.extensions["moodlens_redis"]
    )
    assert screening.rq_job_id in queue.job_ids
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "screening.submit"))


def test_result_page_polls_and_shows_phq9_and_crisis_panel(client, consented):
    submit(client, samples.astronaut_jpeg(), answers=[2, 2, 2, 2, 2, 1, 1, 0, 1])
    screening = only_screening()
    assert screening.urgent and screening.phq9_total == 13
    page = client.get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert 'id="crisis-panel"' in page and "emergency" in page
    assert "This is a screening, not a diagnosis" in page
    assert "13<span" in page and "Moderate" in page and "signs of depression at a moderate level" in page
    # The clinician's wording (pattern, proposed action) is for doctors, not on the patient's page.
    assert "Provisional major depressive syndrome" not in page and "Proposed action" not in page
    assert 'data-stream="/screenings/' in page and 'hx-trigger="live-nudge"' in page
    assert 'id="doctor-cta"' in page
    assert ' style="' not in page and "<script>" not in page
    fragment = client.get(f"/screenings/{screening.id}/status", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="analysis-progress"' in fragment.get_data(as_text=True)
    screening.status, screening.failure_reason = ScreeningStatus.FAILED, "This clip is too long."
    db.session.commit()
    fragment = client.get(f"/screenings/{screening.id}/status", headers={"HX-Request": "true"})
    assert fragment.status_code == 286  # htmx stops polling
    assert "This clip is too long." in fragment.get_data(
        as_text=True
    ) and "Retry analysis" in fragment.get_data(as_text=True)


def test_no_crisis_panel_without_item9(client, consented):
    submit(client, samples.astronaut_jpeg())
    page = client.get(f"/screenings/{only_screening().id}").get_data(as_text=True)
    assert "crisis-panel" not in page and 'id="doctor-cta"' not in page


def test_xhr_upload_gets_json(client, consented):
    data = form_data(client, samples.clip_webm(seconds=1.0), filename="clip.webm")
    response = client.post(
        "/screenings/new",
        data=data,
        content_type="multipart/form-data",
        headers={"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    screening = only_screening()
    assert body["url"] == f"/screenings/{screening.id}" and screening.kind == "clip"
    assert screening.media_type == "video/webm"
    bad = client.post(
        "/screenings/new",
        data=form_data(client, b"", filename="clip.webm"),
        content_type="multipart/form-data",
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert bad.status_code == 400 and "empty" in bad.get_json()["error"]["message"]


BAD_MEDIA = [
    ("zero bytes", b"", "photo.jpg", 400, "empty"),
    (
        "text renamed .jpg",
        b"I am not a picture, just text.\n" * 20,
        "photo.jpg",
        415,
        "neither a photo nor a video",
    ),
    ("truncated jpeg", None, "photo.jpg", 422, "damaged or incomplete"),
    ("decompression bomb png", None, "photo.png", 422, "too large"),
    ("16-bit png", None, "photo.png", 422, "not supported"),
    ("animated gif", None, "photo.gif", 422, "Animated"),
    ("corrupt webm", None, "clip.webm", 422, "record"),
    ("over-long clip", None, "clip.webm", 422, "longer than"),
]
SAMPLES = {
    "truncated jpeg": samples.truncated_jpeg,
    "decompression bomb png": samples.bomb_png,
    "16-bit png": samples.png_16bit,
    "animated gif": samples.animated_gif,
    "corrupt webm": samples.corrupt_webm,
    "over-long clip": lambda: samples.clip_webm(seconds=32, fps=2, size=(64, 48), face=False),
}


@pytest.mark.parametrize(
    ("name", "data", "filename", "status", "message"), BAD_MEDIA, ids=[b[0] for b in BAD_MEDIA]
)
def test_bad_media_is_refused_with_a_message(client, consented, name, data, filename, status, message):
    data = SAMPLES[name]() if data is None else data
    response = submit(client, data, filename=filename)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Screening.id))) == 0
    assert not any(media_store.media_root().rglob("*.enc"))


def test_cmyk_photo_is_converted_not_refused(client, consented):
    assert submit(client, samples.cmyk_jpeg()).status_code == 303
    assert Image.open(io.BytesIO(media_store.load(only_screening().media_path))).mode == "RGB"


@pytest.mark.parametrize(
    ("answers", "difficulty", "message"),
    [
        ([0, 1, 0, 1, 0, 0, 1, 0, None], 1, "question 9"),
        ([None] * 9, None, "questions 1, 2, 3, 4, 5, 6, 7, 8 and 9 still need an answer"),
        ([0, 1, 0, 1, 0, 0, 4, 0, 0], 1, "question 7"),
        ([0, 1, 0, 1, 0, 0, "x", 0, 0], 1, "question 7"),
        (CALM_ANSWERS, 7, "Difficulty"),
    ],
)
def test_bad_phq9_is_refused(client, consented, answers, difficulty, message):
    response = submit(client, samples.astronaut_jpeg(), answers=answers, difficulty=difficulty)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Screening.id))) == 0


def test_missing_media_is_refused(client, consented):
    response = submit(client, None)
    assert response.status_code == 422 and "choose a photo" in response.get_data(as_text=True)


def test_other_patients_get_404_everywhere(client, app, consented):
    submit(client, samples.astronaut_jpeg())
    screening = only_screening()
    own = client.get(f"/api/v1/screenings/{screening.id}")
    assert own.status_code == 200 and own.get_json()["phq9"]["total"] == 3
    assert own.headers["Cache-Control"] == "no-store"
    photo = client.get(f"/screenings/{screening.id}/media/photo")
    assert photo.status_code == 200 and photo.headers["Cache-Control"] == "no-store"
    assert photo.data.startswith(b"\xff\xd8\xff")
    assert client.get(f"/screenings/{screening.id}/media/gradcam").status_code == 404  # doctors only
    other = app.test_client()
    login(other, factories.patient())
    for url in (
        f"/screenings/{screening.id}",
        f"/screenings/{screening.id}/status",
        f"/screenings/{screening.id}/media/photo",
        f"/api/v1/screenings/{screening.id}",
    ):
        assert other.get(url).status_code == 404, url
    anonymous = app.test_client().get(f"/api/v1/screenings/{screening.id}")
    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["status"] == 401


def test_history_and_home_panel(client, consented):
    submit(client, samples.astronaut_jpeg(), answers=[3, 3, 3, 3, 3, 0, 0, 0, 0])
    history = client.get("/screenings").get_data(as_text=True)
    assert "moderately severe" in history and "queued" in history and "photo" in history
    home = client.get("/patient").get_data(as_text=True)
    assert 'hx-get="/screenings/panel"' in home
    panel = client.get("/screenings/panel", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "PHQ-9 15" in panel and "Take a screening" in panel
    assert re.search(r'href="/screenings"[^>]*>Screenings<', client.get("/patient").get_data(as_text=True))


def test_redis_down_at_submit_keeps_it_pending_then_enqueues(app_factory, tmp_path):
    """A private embedded Redis, stopped and started by the test."""
    redis_home = tmp_path / "private-redis"
    url = embedded_redis.ensure_running(redis_home)
    app = app_factory(REDIS_URL=url, RATELIMIT_ENABLED=False)
    client = app.test_client()
    try:
        # Requests run outside a pushed app context (each gets its own, as in production).
        with app.app_context():
            patient = factories.patient()
            consent.grant(patient)
            patient = SimpleNamespace(email=patient.email)
        login(client, patient)
        data = form_data(client, samples.astronaut_jpeg())
        embedded_redis.shutdown(redis_home)
        response = client.post("/screenings/new", data=data, content_type="multipart/form-data")
        assert response.status_code == 303, response.get_data(as_text=True)[-800:]
        with app.app_context():
            screening = only_screening()
            assert screening.status is ScreeningStatus.PENDING and screening.rq_job_id is None
        page = client.get(f"/screenings/{screening.id}").get_data(as_text=True)
        assert "analysis will start" in page
        result = app.test_cli_runner().invoke(args=["screenings", "requeue"])
        assert result.exit_code != 0 and "Redis is not reachable" in result.output
        embedded_redis.ensure_running(redis_home)
        result = app.test_cli_runner().invoke(args=["screenings", "requeue"])
        assert "enqueued 1 pending" in result.output, result.output
        with app.app_context():
            screening = only_screening()
            assert screening.status is ScreeningStatus.QUEUED
            queue = Queue(app.config["RQ_QUEUE"], connection=app.extensions["moodlens_redis"])
            assert queue.job_ids == [screening.rq_job_id]
    finally:
        embedded_redis.shutdown(redis_home)


def test_questionnaire_only_screening_is_complete_without_media(client, consented):
    data = form_data(client, samples.astronaut_jpeg(), filename="chosen-then-changed-my-mind.jpg",
                     answers=[2, 2, 1, 1, 1, 1, 1, 1, 0])
    response = client.post("/screenings/new", data={**data, "include": "questionnaire"},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    screening = only_screening()
    # Finished at once, nothing stored or queued: the photo chosen before switching was ignored.
    assert screening.kind == "questionnaire" and screening.status is ScreeningStatus.DONE
    assert screening.media_path is None and screening.rq_job_id is None and screening.phq9_total == 10
    app = client.application
    assert Queue(app.config["RQ_QUEUE"], connection=app.extensions["moodlens_redis"]).count == 0
    assert not [path for path in media_store.media_root().rglob("*") if path.is_file()]
    page = client.get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert 'id="questionnaire-only"' in page and "hx-trigger" not in page
    assert "10<span" in page and 'id="doctor-cta"' in page  # PHQ-9 ≥ 10 still suggests a doctor
    history = client.get("/screenings").get_data(as_text=True)
    assert "questionnaire" in history
    api = client.get(f"/api/v1/screenings/{screening.id}").get_json()
    assert api["kind"] == "questionnaire" and api["status"] == "done"


def test_with_face_still_needs_media(client, consented):
    data = form_data(client, None)
    response = client.post("/screenings/new", data={**data, "include": "face"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "or choose the questionnaire only" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Screening.id))) == 0
