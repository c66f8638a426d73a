"""/admin/models: bad input refused with a clear 4xx, and a run trained by a real RQ worker."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models._time import utcnow
from app.models.audit import AuditEvent
from app.models.training_run import TrainingRun, TrainingStatus
from app.services import training_runs
from tests import factories
from tests.helpers import csrf_token, login
from tests.ml.fer_fixtures import fer_csv_text, fer_zip_bytes
from tests.worker_process import FLASK, ROOT, worker_env


@pytest.fixture
def admin_client(training_app):
    client = training_app.test_client()
    login(client, factories.admin())
    return client


def post_training(client, files: dict, **fields):
    data = {"csrf_token": csrf_token(client, "/admin/models"), "plugin": "baseline-cnn",
            "epochs": "2", "batch_size": "8", "augment": "1", **fields}
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content), filename)
    return client.post("/admin/models/train", data=data, content_type="multipart/form-data")


def runs(app):
    with app.app_context():
        db.session.remove()
        return db.session.scalars(select(TrainingRun)).all()


@pytest.mark.parametrize(("files", "fields", "message"), [
    ({"dataset_file": (b"emotion,pixels\n0,1\n", "fer2013.csv")}, {}, "lacks the column(s) Usage"),
    ({"dataset_file": (b"emotion,pixels,Usage\n0,1 2,Training\n", "fer2013.csv")}, {}, "got 2"),
    ({"dataset_file": (fer_zip_bytes(extra={"../x.png": b"x"}), "f.zip")}, {}, "unsafe path"),
    ({"dataset_file": (fer_csv_text().encode(), "fer2013.csv"),
      "imagenet_weights": (b"not hdf5", "w.h5")}, {"plugin": "resnet50v2"}, "not a Keras .h5 weights file"),
    ({"dataset_file": (fer_csv_text().encode(), "fer2013.csv")}, {"epochs": "0"}, "Epochs must be"),
    ({"dataset_file": (fer_csv_text().encode(), "fer2013.csv")}, {"plugin": "nope"}, "Choose a plugin"),
    ({}, {}, "Upload a data set or choose one"),
])
def test_bad_input_is_refused_with_a_message_and_starts_nothing(training_app, admin_client, files, fields,
                                                                  message):
    response = post_training(admin_client, files, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert runs(training_app) == []
    assert not (training_app.config["ML_MODELS_DIR"]).exists()


def test_training_runs_on_a_real_worker_and_the_version_page_shows_it(training_app, admin_client, tmp_path):
    response = post_training(admin_client, {"dataset_file": (fer_zip_bytes(per_class=3), "faces.zip")})
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    run_url = response.headers["Location"]
    assert "Waiting for the training worker" in admin_client.get(run_url).get_data(as_text=True)

    env = {**worker_env(training_app), "ML_MODELS_DIR": str(tmp_path / "ml_models"),
           "TRAINING_DATA_DIR": str(tmp_path / "training-data")}
    command = [FLASK, "--app", "wsgi", "worker", "--no-preload", "--burst", "--queue", "training"]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    [run] = runs(training_app)
    assert run.status == TrainingStatus.DONE, run.error
    assert run.progress["epoch_done"] == 2 and len(run.progress["history"]["val_loss"]) == 2

    page = admin_client.get(run_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Epoch 2 of 2" in page and "<polyline" in page and "hx-trigger" not in page

    version = admin_client.get(f"/admin/models/baseline-cnn/{run.version}").get_data(as_text=True)
    for shown in ("Macro-F1", "Per-face latency", "Training images per class", "augmented_samples.png",
                  "confusion_matrix.png", "sample_predictions.png", "Precision"):
        assert shown in version
    figures = f"/admin/models/baseline-cnn/{run.version}"
    assert admin_client.get(f"{figures}/confusion_matrix.png").status_code == 200
    assert admin_client.get(f"{figures}/model_card.png").status_code == 404
    assert run.version in admin_client.get("/admin/models/compare").get_data(as_text=True)
    card = json.loads((tmp_path / "ml_models" / "baseline-cnn" / run.version / "model_card.json").read_text())
    assert card["training"]["epochs_run"] == 2 and not card["training"]["stopped_early_by_admin"]
    assert not list((tmp_path / "ml_models" / ".staging").iterdir())
    with training_app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "training.start" in actions


def test_stop_keeps_the_partial_run_as_a_stopped_version(training_app, admin_client, tmp_path):
    data = tmp_path / "training-data" / "fer"
    data.mkdir(parents=True)
    (data / "fer2013.csv").write_text(fer_csv_text(per_class_train=4))
    response = post_training(admin_client, {}, dataset="fer", epochs="50")
    run_url = response.headers["Location"]
    stop = admin_client.post(run_url + "/stop", data={"csrf_token": csrf_token(admin_client, run_url)})
    assert stop.status_code == 303
    assert admin_client.post(run_url + "/stop", data={"csrf_token": csrf_token(admin_client, run_url)}
                             ).status_code == 303  # still queued: asking twice is harmless

    with training_app.app_context():
        from app.jobs.training import run_training

        [run] = db.session.scalars(select(TrainingRun)).all()
        run_training(run.id)
        db.session.refresh(run)
        assert run.status == TrainingStatus.STOPPED
        assert run.progress["epoch_done"] < 50
        assert training_runs.get_version("baseline-cnn", run.version).stopped
    assert "stopped early" in admin_client.get("/admin/models").get_data(as_text=True)
    assert admin_client.post(run_url + "/stop", data={"csrf_token": csrf_token(admin_client, run_url)}
                             ).status_code == 409


def test_a_run_whose_worker_died_is_failed_with_its_reason(training_app, admin_client):
    with training_app.app_context():
        run = TrainingRun(plugin="baseline-cnn", data_path="/nowhere", options={}, progress={},
                          status=TrainingStatus.RUNNING, heartbeat_at=utcnow() - timedelta(hours=1))
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    page = admin_client.get(f"/admin/models/runs/{run_id}").get_data(as_text=True)
    assert "failed" in page and "The worker stopped responding" in page


def test_the_periodic_sweep_fails_a_lost_run_without_any_page_opened(training_app):
    from app.jobs.periodic import ensure_scheduled, lease_key
    from app.jobs.queue import get_queue, get_redis
    from app.jobs.training import TRAINING_SWEEP, sweep_lost_training_runs

    lost = TrainingRun(plugin="baseline-cnn", data_path="/nowhere", options={}, progress={},
                       status=TrainingStatus.RUNNING, heartbeat_at=utcnow() - timedelta(hours=1))
    beating = TrainingRun(plugin="baseline-cnn", data_path="/nowhere", options={}, progress={},
                          status=TrainingStatus.RUNNING, heartbeat_at=utcnow())
    db.session.add_all([lost, beating])
    db.session.commit()
    assert ensure_scheduled(TRAINING_SWEEP)
    assert sweep_lost_training_runs() == 1
    db.session.refresh(lost)
    db.session.refresh(beating)
    assert lost.status is TrainingStatus.FAILED and "The worker stopped responding" in lost.error
    assert beating.status is TrainingStatus.RUNNING
    # It scheduled its own next run.
    assert get_redis().exists(lease_key("training-sweep"))
    assert any(get_queue().fetch_job(job_id).func_name == "app.jobs.training.sweep_lost_training_runs"
               for job_id in get_queue().scheduled_job_registry.get_job_ids())


def test_the_console_trains_the_severity_estimate_on_a_worker_and_shows_its_errors(training_app,
                                                                                   admin_client):
    from app.plugins.registry import DEFAULT_PLUGIN
    from app.services import simulated_cohort

    def train_on_worker() -> str:
        severity = admin_client.post("/admin/models/severity",
                                     data={"csrf_token": csrf_token(admin_client, "/admin/models")})
        assert severity.status_code == 303
        assert "severity-running" in admin_client.get("/admin/models").get_data(as_text=True)
        again = admin_client.post("/admin/models/severity",
                                  data={"csrf_token": csrf_token(admin_client, "/admin/models")})
        assert again.status_code == 409 and "already being trained" in again.get_data(as_text=True)
        command = [FLASK, "--app", "wsgi", "worker", "--no-preload", "--burst", "--queue", "training"]
        done = subprocess.run(command, env=worker_env(training_app), cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return admin_client.get("/admin/models").get_data(as_text=True)

    page = train_on_worker()
    assert "Too few screenings to train on" in page and "Not trained yet" in page

    simulated_cohort.seed(30, DEFAULT_PLUGIN, separation=1.5, seed_value=1)
    db.session.commit()
    page = train_on_worker()
    assert "Too few screenings" not in page
    result = page.split('id="severity-result"')[1].split("</dl>")[0]
    assert "on 30 patients (5-fold)" in result and "MAE" in result and "RMSE" in result
    assert "0–27 scale" in result and "AVEC 2014" in result and "No: too few patients" in result
    with training_app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("severity.train") == 2


def test_unknown_versions_and_runs_are_404(admin_client):
    assert admin_client.get("/admin/models/runs/99").status_code == 404
    assert admin_client.get("/admin/models/baseline-cnn/20990101-000000").status_code == 404
    assert admin_client.get("/admin/models/mini-xception/x").status_code == 404


def test_the_training_form_still_needs_its_csrf_token(training_app, admin_client):
    response = admin_client.post("/admin/models/train", content_type="multipart/form-data",
                                 data={"plugin": "baseline-cnn", "epochs": "1", "batch_size": "8",
                                       "dataset_file": (io.BytesIO(fer_csv_text().encode()), "fer2013.csv")})
    assert response.status_code == 400
    assert runs(training_app) == []


def test_an_upload_past_the_training_limit_is_413_with_a_message(app_factory, tmp_path):
    app = app_factory(ML_MODELS_DIR=tmp_path / "ml_models", TRAINING_DATA_DIR=tmp_path / "training-data",
                      RATELIMIT_ENABLED=False, TRAINING_UPLOAD_MAX_BYTES=20_000)
    with app.app_context():
        client = app.test_client()
        login(client, factories.admin())
        response = post_training(client, {"dataset_file": (fer_csv_text().encode(), "fer2013.csv")})
        assert response.status_code == 413
        assert "larger than the limit" in response.get_data(as_text=True)
        assert not any((tmp_path / "training-data").iterdir())
