"""Deleting a patient's account.

Every clinical row of the patient goes in one transaction, what their doctors wrote about them
included (diagnoses and notes, reports): it is part of the patient's record. Media files go only
after the commit, so a failed commit loses nothing. The audit trail stays: it is append-only,
holds ids and never names or e-mail addresses (app/models/audit.py), and must still verify
afterwards.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select

from app.extensions import db
from app.i18n.marker import N_
from app.models import (
    ChatMessage,
    ConsentRecord,
    Consultation,
    ConsultationStatus,
    Diagnosis,
    Notification,
    PatientProfile,
    PromptDismissal,
    Report,
    Role,
    Screening,
    ScreeningFrame,
    ScreeningRequest,
    ScreeningShare,
    User,
)
from app.security import audit
from app.security.passwords import verify_password
from app.services import links, mfa, notifications
from app.services.privacy.records import PrivacyError, count_rows
from app.storage import mailer, media_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeletionSummary:
    user_id: int
    screenings: int
    consultations: int
    messages: int
    diagnoses: int
    reports: int
    media_files: int  # files removed from disk

    def as_dict(self) -> dict:
        return asdict(self)


def _doctor_notices_about(consultation_ids: list[int]):
    """Doctors' notifications that point at the patient's consultations (they would be dead links)."""
    paths = [links.consultation_path(cid) for cid in consultation_ids]
    return or_(Notification.link.in_(paths),
               *(Notification.link.like(f"{path}/%") for path in paths))


def _media_paths(user_id: int) -> list[str]:
    rows = db.session.execute(select(Screening.media_path, Screening.crop_path, Screening.gradcam_path)
                              .where(Screening.patient_id == user_id))
    return [path for row in rows for path in row if path]


def delete_account(patient: User, password: str, code: str | None = None) -> DeletionSummary:
    """Check the password (and the second factor, when the patient turned it on), purge every row
    of the patient in one transaction, commit, and only then remove their media files. Raises
    PrivacyError (and deletes nothing) if a check fails."""
    if patient.role is not Role.PATIENT:
        raise PrivacyError(_("Only patient accounts can be deleted here."), 403)
    if not verify_password(patient.password_hash, password or ""):
        audit.record("privacy.delete_refused", actor_id=patient.id, patient_id=patient.id,
                     details={"reason": "wrong password"})
        db.session.commit()
        raise PrivacyError(_("That password is not correct. Nothing was deleted."), 403)
    if patient.mfa_enabled and not mfa.check_second_factor(patient, code or ""):
        raise PrivacyError(_("Enter the current code from your authenticator app (or a recovery "
                           "code). Nothing was deleted."), 403)

    user_id, email = patient.id, patient.email
    screenings = select(Screening.id).where(Screening.patient_id == user_id).scalar_subquery()
    consultations = select(Consultation.id).where(Consultation.patient_id == user_id).scalar_subquery()
    in_consultations = ChatMessage.consultation_id.in_(consultations)
    consultation_ids = list(db.session.scalars(select(Consultation.id)
                                               .where(Consultation.patient_id == user_id)))
    # Doctors who took care of the patient hear that the record is gone (no name: it is not needed).
    doctor_ids = set(db.session.scalars(select(Consultation.doctor_id).where(
        Consultation.patient_id == user_id, Consultation.status != ConsultationStatus.DECLINED)))
    media_paths = _media_paths(user_id)
    counts = {
        "screenings": count_rows(Screening, Screening.patient_id == user_id),
        "consultations": len(consultation_ids),
        "messages": count_rows(ChatMessage, in_consultations),
        "diagnoses": count_rows(Diagnosis, Diagnosis.consultation_id.in_(consultations)),
        "reports": count_rows(Report, Report.consultation_id.in_(consultations)),
    }
    purge = [
        delete(Notification).where(or_(Notification.user_id == user_id,
                                       _doctor_notices_about(consultation_ids))),
        delete(ScreeningRequest).where(or_(ScreeningRequest.consultation_id.in_(consultations),
                                           ScreeningRequest.screening_id.in_(screenings))),
        delete(ChatMessage).where(or_(in_consultations, ChatMessage.sender_id == user_id)),
        delete(Diagnosis).where(Diagnosis.consultation_id.in_(consultations)),
        delete(PromptDismissal).where(PromptDismissal.consultation_id.in_(consultations)),
        delete(Report).where(Report.consultation_id.in_(consultations)),
        delete(ScreeningShare).where(or_(ScreeningShare.consultation_id.in_(consultations),
                                         ScreeningShare.screening_id.in_(screenings))),
        delete(Consultation).where(Consultation.patient_id == user_id),
        delete(ScreeningFrame).where(ScreeningFrame.screening_id.in_(screenings)),
        delete(Screening).where(Screening.patient_id == user_id),
        delete(ConsentRecord).where(ConsentRecord.patient_id == user_id),
        delete(PatientProfile).where(PatientProfile.user_id == user_id),
        delete(User).where(User.id == user_id),
    ]
    try:
        for statement in purge:
            db.session.execute(statement.execution_options(synchronize_session=False))
        for doctor_id in sorted(doctor_ids):
            notifications.notify(doctor_id, "patient.account_deleted",
                                 N_("A patient deleted their MoodLens account; their record was removed"),
                                 links.path_for("consultations.index"))
        # Ids and counts only: the trail must hold nothing that names the person.
        audit.record("privacy.delete", actor_id=user_id, patient_id=user_id, target=f"user:{user_id}",
                     details=counts)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    mailer.discard_local_mail_to(email)
    return DeletionSummary(user_id=user_id, media_files=_remove_media(user_id, media_paths), **counts)


def _remove_media(user_id: int, paths: list[str]) -> int:
    """Remove the patient's files (after the commit). Returns how many files were removed."""
    root = media_store.media_root()
    folder = root / media_store.patient_media_folder(user_id)
    files = {(root / path).resolve() for path in paths if (root / path).is_file()}
    if folder.is_dir():
        files.update(path.resolve() for path in folder.rglob("*") if path.is_file())
    for path in paths:
        try:
            media_store.delete(path)
        except (OSError, ValueError):
            log.exception("media file %s of deleted account %s could not be removed", path, user_id)
    if folder.is_dir():
        shutil.rmtree(folder, onerror=lambda _f, failed, _e: log.error(
            "media %s of deleted account %s could not be removed", failed, user_id))
    return sum(1 for path in files if not path.exists())

