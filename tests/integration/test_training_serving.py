"""Serving versions: a newly trained version never serves until an admin chooses it, and the next
screening after the choice uses it, in the same worker process (no restart)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from sqlalchemy import create_engine, select, text

from app.extensions import db
from app.jobs.analysis import analyse_screening
from app.jobs.training import run_training
from app.ml.training.trainer import TrainingOptions, train_plugin
from app.models.audit import AuditEvent
from app.models.screening import Screening, ScreeningStatus
from app.models.training_run import TrainingRun, TrainingStatus
from app.plugins.builtin import DEFAULT_PLUGIN, BaselineCnn
from app.services import plugin_settings, readiness
from tests import factories, samples
from tests.helpers import client_for, csrf_token, new_patient_client
from tests.ml.fer_synthetic import write_csv
from tests.worker_process import FLASK, ROOT, take

pytestmark = pytest.mark.slow
PLUGIN = "baseline-cnn"


def screen_once(app, client) -> Screening:
    """A photo screening, analysed here by the job a worker would run."""
    screening_id = take(app, client, samples.astronaut_jpeg())
    assert analyse_screening(screening_id) == "done"
    db.session.remove()
    screening = db.session.get(Screening, screening_id)
    assert screening.status is ScreeningStatus.DONE and screening.plugin_name == PLUGIN
    return screening


def serve(client, version: str, **fields):
    url = f"/admin/models/{PLUGIN}/{version}"
    return client.post(f"{url}/serve", data={"csrf_token": csrf_token(client, "/admin/models"), **fields})


def test_a_new_version_serves_only_once_an_admin_chooses_it(training_app, tmp_path):
    app, models = training_app, tmp_path / "ml_models"
    data = write_csv(tmp_path / "training-data" / "synthetic", (6, 2))
    old = train_plugin(BaselineCnn, data, models, TrainingOptions(epochs=1, batch_size=32, verbose=0)).name
    admin = factories.admin()
    admin_id = admin.id
    # The version an upgrade found on disk serves; the plugin is the default for new screenings.
    plugin_settings.set_serving_version(PLUGIN, old, actor_id=admin_id, confirmed=True)
    plugin_settings.enable(PLUGIN, actor_id=admin_id)
    plugin_settings.set_default(PLUGIN, actor_id=admin_id, confirmed=True)
    admin_client, patient = client_for(app, admin), new_patient_client(app)
    assert screen_once(app, patient).plugin_version == old

    # The console trains a new version: it exists, but screenings keep the old one.
    response = admin_client.post("/admin/models/train", data={
        "csrf_token": csrf_token(admin_client, "/admin/models"), "plugin": PLUGIN, "dataset": "synthetic",
        "epochs": "1", "batch_size": "32"})
    assert response.status_code == 303
    run = db.session.scalars(select(TrainingRun)).one()
    new = run_training(run.id)
    assert run.status is TrainingStatus.DONE and new and new != old
    listing = admin_client.get("/admin/models").get_data(as_text=True)
    assert listing.count("Serving</span>") == 1 and listing.index(old) < listing.index("Serving</span>")
    assert screen_once(app, patient).plugin_version == old

    # Choosing it first shows its test numbers and changes nothing until confirmed.
    card = json.loads((models / PLUGIN / new / "model_card.json").read_text())
    asked = serve(admin_client, new)
    assert asked.status_code == 200
    question = asked.get_data(as_text=True)
    assert f"{card['test_metrics']['accuracy']:.1%}" in question
    assert f"{card['test_metrics']['macro_f1']:.3f}" in question and f"Now serving: {old}" in question
    assert plugin_settings.serving_versions()[PLUGIN] == old
    assert screen_once(app, patient).plugin_version == old

    assert serve(admin_client, new, confirm="yes").status_code == 303
    page = admin_client.get(f"/admin/models/{PLUGIN}/{new}").get_data(as_text=True)
    assert "Every new screening with baseline-cnn uses this version" in page
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "plugin.serve_version")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.actor_id == admin_id and event.target == f"plugin:{PLUGIN}"
    assert event.details["version"] == new and event.details["previous"] == old
    # The same process, no restart: the next job loads the chosen version.
    assert screen_once(app, patient).plugin_version == new


def stand_in_version(models, version: str, card: dict | None) -> str:
    """A version folder with a stand-in model file (choosing one reads its card, not its weights)."""
    folder = models / PLUGIN / version
    folder.mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"stand-in")
    if card is not None:
        (folder / "model_card.json").write_text(json.dumps(card))
    return version


def test_only_a_complete_version_may_serve_and_only_an_admin_chooses(training_app, tmp_path):
    app, models = training_app, tmp_path / "ml_models"
    metrics = {"test_metrics": {"accuracy": 0.5, "macro_f1": 0.4, "samples": 70}}
    done = stand_in_version(models, "20000103-000000", {**metrics, "training": {}})
    stopped = stand_in_version(models, "20000101-000000",
                               {**metrics, "training": {"stopped_early_by_admin": True}})
    unfinished = stand_in_version(models, "20000102-000000", None)
    admin_client = client_for(app, factories.admin())

    refused = serve(admin_client, stopped, confirm="yes")
    assert refused.status_code == 409
    assert "was stopped before it finished training" in refused.get_data(as_text=True)
    refused = serve(admin_client, unfinished, confirm="yes")
    assert refused.status_code == 409 and "has no test results" in refused.get_data(as_text=True)
    # A failed run leaves no version folder at all.
    missing = serve(admin_client, "20990101-000000", confirm="yes")
    assert missing.status_code == 404 and "There is no version" in missing.get_data(as_text=True)
    assert serve(admin_client, "..", confirm="yes").status_code == 404

    for outsider in (factories.doctor(), factories.patient()):
        client = client_for(app, outsider)
        forbidden = client.post(f"/admin/models/{PLUGIN}/{done}/serve",
                                data={"csrf_token": csrf_token(client, "/admin/"), "confirm": "yes"})
        assert forbidden.status_code == 403
    assert plugin_settings.serving_versions() == {}
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "plugin.serve_version")).all()
    # Unchosen, the trained plugin cannot serve and says how to choose.
    [status] = [p for p in plugin_settings.list_plugins() if p.name == PLUGIN]
    assert not status.available and "Serve this version" in status.unavailable_reason


def test_readiness_names_what_the_next_screening_will_use(training_app, tmp_path):
    models, admin_id = tmp_path / "ml_models", factories.admin().id
    card = {"test_metrics": {"accuracy": 0.5, "macro_f1": 0.4, "samples": 70}, "training": {}}
    chosen = stand_in_version(models, "20000101-000000", card)
    stand_in_version(models, "20000102-000000", card)
    plugin_settings.set_serving_version(PLUGIN, chosen, actor_id=admin_id, confirmed=True)
    plugin_settings.enable(PLUGIN, actor_id=admin_id)
    plugin_settings.set_default(PLUGIN, actor_id=admin_id, confirmed=True)
    assert plugin_check() == (True, f"default plugin {PLUGIN} available")

    # The chosen version breaks (the newer folder is complete but not chosen): screenings fall back
    # to the shipped default, and readiness says so rather than vouching for the newest folder.
    (models / PLUGIN / chosen / "model.keras").unlink()
    assert plugin_check() == (True, f"default plugin {DEFAULT_PLUGIN} available")


def plugin_check() -> tuple[bool, str]:
    [check] = [check for check in readiness.checks() if check.name == "plugin"]
    return check.ok, check.detail


def flask_db(database_url: str, tmp_path, *args: str) -> None:
    env = dict(os.environ, MOODLENS_ENV="development", DATABASE_URL=database_url,
               MOODLENS_INSTANCE_PATH=str(tmp_path / "instance"), ML_MODELS_DIR=str(tmp_path / "ml_models"))
    env.pop("REDIS_URL", None)
    done = subprocess.run([FLASK, "--app", "wsgi", "db", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_upgrade_keeps_serving_what_served_before(tmp_path):
    url = f"sqlite:///{tmp_path / 'upgraded.db'}"
    flask_db(url, tmp_path, "upgrade", "0011_research_evidence")
    for version in ("20260101-000000", "20260301-000000"):
        stand_in_version(tmp_path / "ml_models", version, None)
    (tmp_path / "ml_models" / PLUGIN / "20260401-000000").mkdir()  # no model: never a version
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO plugin_settings (name, enabled, is_default, updated_at) "
                          "VALUES ('fer2013-mini-xception', 1, 1, '2026-01-01 00:00:00')"))
    flask_db(url, tmp_path, "upgrade")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT name, serving_version FROM plugin_settings")).all())
        enabled = conn.execute(text("SELECT enabled FROM plugin_settings WHERE name = :name"),
                               {"name": PLUGIN}).scalar()
    engine.dispose()
    assert rows == {"fer2013-mini-xception": None, PLUGIN: "20260301-000000"}
    assert not enabled  # no row meant disabled; the upgrade keeps it so
