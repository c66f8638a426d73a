"""The crisis path after a screening is submitted.

A PHQ-9 item-9 answer above 0 puts a crisis panel on the patient's home, with the deployment's
crisis lines, until a doctor treating them confirms they have read that screening. The
acknowledgement lives on the screening row (who and when), not in the audit trail: an audit
action that only ever happens for item-9 screenings would tell admins who answered it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.clinical.triage import is_crisis
from app.extensions import db
from app.models._time import utcnow
from app.models.care import Consultation, ConsultationStatus, ScreeningShare
from app.models.screening import Screening
from app.models.user import User
from app.services.consultations import CareError


@dataclass
class AwaitingDoctor:
    """The newest item-9 screening no doctor has acknowledged, and who it is shared with."""

    screening: Screening
    shared_with: list[str]  # names of doctors in open consultations who can see it


def awaiting_doctor(patient_id: int) -> AwaitingDoctor | None:
    screening = db.session.scalars(
        select(Screening).where(Screening.patient_id == patient_id, Screening.phq9_item9 > 0,
                                Screening.crisis_acknowledged_at.is_(None))
        .order_by(Screening.created_at.desc(), Screening.id.desc()).limit(1)).first()
    if screening is None:
        return None
    doctors = db.session.scalars(
        select(User).join(Consultation, Consultation.doctor_id == User.id)
        .join(ScreeningShare, ScreeningShare.consultation_id == Consultation.id)
        .where(ScreeningShare.screening_id == screening.id, ScreeningShare.revoked_at.is_(None),
               Consultation.status.in_([ConsultationStatus.REQUESTED, ConsultationStatus.ACCEPTED]))
        .order_by(User.id)).all()
    return AwaitingDoctor(screening, [doctor.display_name for doctor in doctors])


def acknowledge(doctor: User, screening: Screening) -> None:
    """The treating doctor has read this item-9 screening (access checked by the caller)."""
    if not is_crisis(screening.phq9_item9):
        raise CareError(_("Only screenings that report thoughts of self-harm need acknowledging."), 409)
    if screening.crisis_acknowledged_at is None:
        screening.crisis_acknowledged_at = utcnow()
        screening.crisis_acknowledged_by_id = doctor.id
        db.session.commit()
