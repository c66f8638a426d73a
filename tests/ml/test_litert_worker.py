"""A real `flask worker` serving with LiteRT analyses screenings without importing TensorFlow,
and renders a Grad-CAM map (which does need it) only when a doctor first asks for it."""

from __future__ import annotations

import subprocess

import pytest
from rq.job import Job

from app.extensions import db
from app.jobs.queue import get_queue, get_redis
from app.models.screening import ScreeningStatus
from app.services import activation_maps, consultations
from tests import factories, samples
from tests.helpers import login, new_patient_client
from tests.worker_process import ROOT, load, take, worker_command, worker_env

pytestmark = pytest.mark.slow

HEAVY = ["tensorflow", "keras"]


def run_worker(app, models_dir) -> str:
    env = {**worker_env(app), "ML_MODELS_DIR": str(models_dir), "ML_BACKEND": "litert"}
    done = subprocess.run(worker_command("--burst"), env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def probe(app):
    with app.app_context():
        return get_queue().enqueue("tests.ml.worker_probe.imported_modules", HEAVY)


def test_litert_worker_analyses_without_tensorflow_and_renders_gradcam_on_demand(
    worker_app, converted_models_dir  # noqa: F811  (the fixture imported above)
):
    app, client = worker_app, new_patient_client(worker_app)
    photo = take(app, client, samples.astronaut_jpeg())
    clip = take(app, client, samples.clip_webm(seconds=2.0, fps=10))
    after_screenings = probe(app)
    log = run_worker(app, converted_models_dir)

    with app.app_context():
        for screening_id in (photo, clip):
            row = load(app, screening_id)
            assert row.status is ScreeningStatus.DONE, (row.failure_reason, log[-2000:])
            assert row.crop_path and row.gradcam_path is None  # no Grad-CAM during the analysis
        assert load(app, photo).facial_result["summary"]["dominant"] == "happy"
        after_screenings = Job.fetch(after_screenings.id, connection=get_redis())
        assert after_screenings.return_value() == {"tensorflow": False, "keras": False}, log[-2000:]
    assert "instead of LiteRT" not in log

    # A doctor who treats the patient opens the screening: the map is enqueued, once.
    with app.app_context():
        patient_id = load(app, photo).patient_id
        doctor = factories.doctor()
        consultation = consultations.request_consultation(
            db.session.get(type(doctor), patient_id), doctor.id, [photo], "Hello"
        )
        consultations.accept(doctor, consultation)
        doctor_client = app.test_client()
        login(doctor_client, doctor)  # single-use codes: the factory reads the account's last step
    page = doctor_client.get(f"/screenings/{photo}").get_data(as_text=True)
    assert "Rendering the activation map" in page and 'hx-trigger="every 1s"' in page
    fragment = doctor_client.get(f"/screenings/{photo}/activation-map", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Rendering the activation map" in fragment.get_data(as_text=True)
    with app.app_context():
        queued = [job.func_name for job in get_queue().get_jobs()]
    assert queued.count(activation_maps.JOB) == 1
    # The patient never sees it, nor asks for it.
    own = client.get(f"/screenings/{photo}/activation-map", headers={"HX-Request": "true"})
    assert own.status_code == 404

    run_worker(app, converted_models_dir)
    fragment = doctor_client.get(f"/screenings/{photo}/activation-map", headers={"HX-Request": "true"})
    assert fragment.status_code == 286  # htmx stops polling
    assert "/media/gradcam" in fragment.get_data(as_text=True)
    image = doctor_client.get(f"/screenings/{photo}/media/gradcam")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    with app.app_context():
        assert load(app, photo).gradcam_path
