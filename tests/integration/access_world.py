"""The people and records the access matrix is checked against (see test_access_matrix.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from app.extensions import db
from app.models.care import TreatmentPlan
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import chat, consent, consultations, diagnoses, reports
from app.services.diagnoses import DiagnosisInput
from app.storage import media_store
from tests import factories
from tests.helpers import finalise_report

PERSONAS = ("anonymous", "owner", "other_patient", "unverified_doctor", "unassigned_doctor",
            "assigned_doctor", "admin")


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class World:
    users: dict
    screening_id: int
    consultation_id: int
    share_id: int
    report_id: int

    def url_values(self, argument: str):
        return {
            "screening_id": self.screening_id,
            "consultation_id": self.consultation_id,
            "share_id": self.share_id,
            "report_id": self.report_id,
            "user_id": self.users["unverified_doctor"].id,
            "name": DEFAULT_PLUGIN,
            "job_id": "no-such-job",
            "token": "not-a-valid-token",  # e-mailed links: a forged one must open nothing
            "token_id": 1,  # only role-denied requests reach it; the token tests own the rest
            "patient_id": self.users["owner"].id,
            "run_id": 1,  # no run exists: the admin gets 404, everyone else is refused first
            "plugin": "baseline-cnn",
            "version": "no-such-version",
            "figure": "confusion_matrix",
            "comparison_id": "no-such-comparison",
        }[argument]


def build_world() -> World:
    owner = factories.patient(name="Olive Owner")
    other = factories.patient(name="Otto Other")
    for patient in (owner, other):
        consent.grant(patient)
    assigned = factories.doctor(name="Ada Assigned")
    users = {
        "owner": owner,
        "other_patient": other,
        "unverified_doctor": factories.doctor(verified=False, name="Uma Unverified"),
        "unassigned_doctor": factories.doctor(name="Nils Unassigned"),
        "assigned_doctor": assigned,
        "admin": factories.admin(),
    }
    screening = factories.screening(owner, total=14)
    folder = f"screenings/{owner.id}"
    screening.media_path = media_store.save(_jpeg(), folder, ".jpg")
    screening.media_type = "image/jpeg"
    screening.crop_path = media_store.save(_jpeg(), folder, ".crop.jpg")
    screening.gradcam_path = media_store.save(_jpeg(), folder, ".gradcam.png")
    db.session.commit()
    consultation = consultations.request_consultation(owner, assigned.id, [screening.id], "Hello")
    consultations.accept(assigned, consultation)
    chat.post_message(owner, consultation, "How do I start?")
    diagnoses.record(assigned, consultation, DiagnosisInput(
        outcome="confirmed", severity="moderate", notes="Notes", plan=TreatmentPlan.PSYCHOTHERAPY.value,
        plan_details="CBT", followup_interval_days=14))
    report = finalise_report(assigned, reports.create(assigned, consultation))
    return World(users=users, screening_id=screening.id, consultation_id=consultation.id,
                 share_id=consultation.shares[0].id, report_id=report.id)
