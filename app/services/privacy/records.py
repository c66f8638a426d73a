"""What MoodLens holds about a patient, counted for the privacy page and the deletion summary."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.care import (
    ChatMessage,
    Consultation,
    Diagnosis,
    Notification,
    Report,
    ReportStatus,
)
from app.models.screening import Screening
from app.models.user import User
from app.services.errors import ServiceError


class PrivacyError(ServiceError):
    """An export or deletion request the patient can fix."""


def inventory(patient: User) -> dict[str, int]:
    """How much MoodLens holds about the patient, for the privacy page."""
    consultations = select(Consultation.id).where(Consultation.patient_id == patient.id).scalar_subquery()
    media = db.session.execute(select(func.count(Screening.media_path), func.count(Screening.crop_path),
                                      func.count(Screening.gradcam_path))
                               .where(Screening.patient_id == patient.id)).one()
    return {
        "screenings": count_rows(Screening, Screening.patient_id == patient.id),
        "uploads": media[0],
        "derived_images": media[1] + media[2],
        "consultations": count_rows(Consultation, Consultation.patient_id == patient.id),
        "messages": count_rows(ChatMessage, ChatMessage.consultation_id.in_(consultations)),
        "diagnoses": count_rows(Diagnosis, Diagnosis.consultation_id.in_(consultations)),
        "reports": count_rows(Report, Report.consultation_id.in_(consultations),
                              Report.status == ReportStatus.FINAL),
        "notifications": count_rows(Notification, Notification.user_id == patient.id),
    }


def count_rows(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

