"""Which records a reader may take out as FHIR, gathered and mapped (app/services/fhir_mapping.py).

A patient gets everything of theirs. A doctor (or a token acting for one) gets a patient only
while treating them: the screenings shared with them (unrevoked), the confirmed diagnoses and
the final reports of the consultations they treat — exactly what their pages show them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models._time import utcnow
from app.models.care import Consultation, Report, ReportStatus
from app.models.screening import Screening, ScreeningStatus
from app.models.user import Role, User
from app.security import audit
from app.security.policy import doctor_treats, patient_shared_with
from app.services import fhir_mapping
from app.services.consultations import shared_screenings

RenderPdf = Callable[[Report], bytes]


def _finished(screenings) -> list[Screening]:
    return [s for s in screenings if s.status in (ScreeningStatus.DONE, ScreeningStatus.FAILED)]


def _screening_resources(screenings: list[Screening]) -> list[dict]:
    resources = []
    for screening in screenings:
        resources.append(fhir_mapping.questionnaire_response(screening))
        resources.append(fhir_mapping.phq9_total(screening))
        affect = fhir_mapping.facial_affect(screening)
        if affect is not None:
            resources.append(affect)
    return resources


def _care_resources(consultations: list[Consultation], patient_id: int, screening_ids: set[int],
                    render_pdf: RenderPdf | None) -> list[dict]:
    resources = []
    for consultation in consultations:
        current = consultation.current_diagnosis
        condition = None
        if current is not None and current.confirmed:
            condition = fhir_mapping.condition(current, patient_id)
            resources.append(condition)
        for report in db.session.scalars(select(Report).where(
                Report.consultation_id == consultation.id, Report.status == ReportStatus.FINAL)
                .order_by(Report.id)):
            shared = [share.screening_id for share in consultation.shares
                      if share.screening_id in screening_ids]
            resources.append(fhir_mapping.diagnostic_report(
                report, patient_id, render_pdf(report) if render_pdf else None, shared,
                condition["id"] if condition else None))
    return resources


def _patient_consultations(patient_id: int) -> list[Consultation]:
    return list(db.session.scalars(select(Consultation).where(Consultation.patient_id == patient_id)
                                   .order_by(Consultation.id)))


def for_patient(patient: User, render_pdf: RenderPdf | None = None) -> dict:
    """The patient's own record as a FHIR collection Bundle (for their data export)."""
    base_url = current_app.config["MAIL_LINK_BASE_URL"].rstrip("/") + "/fhir"
    screenings = _finished(db.session.scalars(select(Screening).where(Screening.patient_id == patient.id)
                                              .order_by(Screening.created_at, Screening.id)))
    resources = [fhir_mapping.patient(patient), *_screening_resources(screenings)]
    resources += _care_resources(_patient_consultations(patient.id), patient.id,
                                 {s.id for s in screenings}, render_pdf)
    return fhir_mapping.bundle(resources, base_url, timestamp=utcnow())


def _treated(doctor: User, patient_id: int) -> tuple[User, list[Consultation], list[Screening]] | None:
    if not patient_shared_with(doctor, patient_id):
        return None
    patient = db.session.get(User, patient_id)
    if patient is None or patient.role is not Role.PATIENT:
        return None
    consultations = [c for c in _patient_consultations(patient_id) if doctor_treats(doctor, c)]
    seen: dict[int, Screening] = {}
    for consultation in consultations:
        for screening in shared_screenings(consultation):
            seen.setdefault(screening.id, screening)
    screenings = _finished(sorted(seen.values(), key=lambda s: (s.created_at, s.id)))
    return patient, consultations, screenings


def everything_for_doctor(doctor: User, patient_id: int, base_url: str, render_pdf: RenderPdf | None = None,
                          bundle_type: str = "searchset") -> dict | None:
    """Patient/$everything as `doctor` may see it (a searchset, or a collection for a download);
    None when the patient is not theirs to see."""
    treated = _treated(doctor, patient_id)
    if treated is None:
        return None
    patient, consultations, screenings = treated
    resources = [fhir_mapping.patient(patient), *_screening_resources(screenings)]
    resources += _care_resources(consultations, patient.id, {s.id for s in screenings}, render_pdf)
    _audit(doctor, patient.id, "everything", len(resources))
    return fhir_mapping.bundle(resources, base_url, bundle_type, timestamp=utcnow())


def questionnaire_responses_for_doctor(doctor: User, patient_id: int, base_url: str) -> dict | None:
    """QuestionnaireResponse?patient=…: the PHQ-9s shared with `doctor`; None if not their patient."""
    treated = _treated(doctor, patient_id)
    if treated is None:
        return None
    patient, _, screenings = treated
    resources = [fhir_mapping.questionnaire_response(s) for s in screenings]
    _audit(doctor, patient.id, "questionnaire-responses", len(resources))
    return fhir_mapping.bundle(resources, base_url, "searchset", timestamp=utcnow())


def _audit(doctor: User, patient_id: int, what: str, count: int) -> None:
    audit.record("fhir.read", actor_id=doctor.id, patient_id=patient_id, target=f"fhir:{what}",
                 details={"resources": count})
    db.session.commit()
