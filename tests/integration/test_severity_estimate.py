"""`flask ml train-severity` and the doctor's view: no estimate until it is validated here."""

import json
import os
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models.care import Consultation
from app.models.screening import Screening
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import research_consent, severity, simulated_cohort
from tests import factories
from tests.helpers import client_for, post


def _doctor_view(app, patient, doctor) -> str:
    screening = db.session.scalars(select(Screening).where(Screening.patient_id == patient.id)).one()
    patient_client, doctor_client = client_for(app, patient), client_for(app, doctor)
    post(patient_client, "/consultations/new",
         {"doctor": str(doctor.id), "screenings": [str(screening.id)], "message": "Hello"})
    url = f"/consultations/{db.session.scalars(select(Consultation)).one().id}"
    assert post(doctor_client, f"{url}/accept").status_code == 302
    return doctor_client.get(f"{url}/screenings/{screening.id}").get_data(as_text=True)


def _patient_with_face_screening(patient):
    research_consent.grant(patient)
    screening = factories.screening(patient, total=15, affect=75.0)
    screening.facial_result = {"summary": {"indicator": 75.0, "distribution": {"sad": 0.75, "happy": 0.25},
                                           "spread": 5.0, "negative_share": 0.75, "version": "affect-v1"}}
    db.session.commit()


def test_cli_reports_errors_beside_the_scale_and_avec2014(app):
    simulated_cohort.seed(60, DEFAULT_PLUGIN, separation=1.5, seed_value=1)
    result = app.test_cli_runner().invoke(args=["ml", "train-severity"])
    assert result.exit_code == 0, result.output
    assert "0-27 scale" in result.output and "AVEC 2014" in result.output and "BDI-II" in result.output
    assert "different instrument" in result.output
    assert "Not validated" in result.output  # 60 patients are fewer than 100


def test_too_few_patients_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["ml", "train-severity"])
    assert result.exit_code == 1 and "Too few screenings to train on: 0 patients" in result.output


def test_no_estimate_in_the_ui_before_validation(app, patient, doctor):
    _patient_with_face_screening(patient)
    simulated_cohort.seed(60, DEFAULT_PLUGIN, separation=1.5, seed_value=1)
    assert not severity.train()["validated"]
    assert "Severity estimate" not in _doctor_view(app, patient, doctor)


def test_validated_estimate_shows_with_its_error_bar(app, patient, doctor):
    app.config["SEVERITY_MAX_MAE"] = 20.0  # the simulated relation is weak; the gate is what is tested
    _patient_with_face_screening(patient)
    simulated_cohort.seed(120, DEFAULT_PLUGIN, separation=1.5, seed_value=1)
    stored = severity.train()
    assert stored["validated"] and stored["n"] == 121
    page = " ".join(_doctor_view(app, patient, doctor).split())
    assert "Severity estimate from the face" in page and f"± {stored['cv_mae']:.1f}" in page


def _write_model(path: Path, n: int) -> None:
    """Stores a model as train() does: a new file replaces the old one."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"validated": False, "n": n}))
    temporary.replace(path)


def test_the_model_file_is_read_once_per_version(app, monkeypatch):
    path = Path(app.instance_path) / severity.MODEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    reads = []
    read_text = Path.read_text

    def counted(self, *args, **kwargs):
        reads.append(self)
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counted)
    _write_model(path, 10)

    assert [severity.trained_model()["n"] for _ in range(3)] == [10, 10, 10]
    assert reads.count(path) == 1

    _write_model(path, 20)  # a retraining: picked up at the next view, without a restart
    assert severity.trained_model()["n"] == 20 and reads.count(path) == 2

    # Rewritten in place with the same size (same inode): its new mtime alone tells it apart.
    path.write_text(path.read_text().replace("20", "30"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    assert severity.trained_model()["n"] == 30

    path.unlink()
    assert severity.trained_model() is None
