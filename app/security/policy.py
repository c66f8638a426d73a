"""Who may see what. Routes ask this module; they never re-implement its rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.models.user import Role


def role_required(*roles: Role) -> Callable:
    """Log-in required, then one of `roles`; anything else is a 403 with a clear message."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, description=_("This page is not available for your account type."))
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the access-matrix test
        return wrapped

    return decorator


def can_see_patients(user) -> bool:
    """Only verified doctors ever see patient data; pending, rejected or revoked ones never do."""
    return user.is_authenticated and user.is_verified_doctor


def care_records_visible_to(user) -> bool:
    """Whether lists about patients (consultations, unread counts, notifications) may be shown:
    patients see their own; a doctor only while verified. A revoked, rejected or pending doctor
    gets empty lists everywhere, so no page, panel or badge shows names, flags or counts."""
    if not user.is_authenticated:
        return False
    if user.role is Role.PATIENT:
        return True
    return can_see_patients(user)


def screening_visible_to(user, screening) -> bool:
    """The patient who took a screening sees it; a doctor only through the care loop: assigned
    to a consultation they accepted, with an unrevoked share of this screening. Admins never."""
    if not user.is_authenticated:
        return False
    if user.role is Role.PATIENT:
        return screening.patient_id == user.id
    return doctor_has_share(user, screening.id)


def activation_map_visible_to(user, screening) -> bool:
    """Grad-CAM overlays are a clinician's tool: doctors who may see the screening, never patients."""
    return user.is_authenticated and user.role is Role.DOCTOR and screening_visible_to(user, screening)


# --- Care loop ---------------------------------------------------------------------------
#
# A doctor treats a patient while the consultation is accepted and open: then they see the
# shared screenings and their media, the chat, and write diagnoses and reports. Closing ends
# that. Afterwards the doctor keeps read access to what they themselves wrote (the diagnosis
# and their reports) as a medical record, nothing more; the patient keeps everything.

def doctor_treats(user, consultation) -> bool:
    """The consultation's own verified doctor, while it is accepted and open."""
    from app.models.care import ConsultationStatus

    return bool(can_see_patients(user) and consultation.doctor_id == user.id
                and consultation.accepted_at is not None
                and consultation.status is ConsultationStatus.ACCEPTED)


def doctor_keeps_record(user, consultation) -> bool:
    """The consultation's own verified doctor, after accepting it, open or closed (declined: never)."""
    from app.models.care import ConsultationStatus

    return bool(can_see_patients(user) and consultation.doctor_id == user.id
                and consultation.accepted_at is not None
                and consultation.status in (ConsultationStatus.ACCEPTED, ConsultationStatus.CLOSED))


def consultation_visible_to(user, consultation) -> bool:
    """Its patient; its verified doctor while the request waits, and after accepting it (a closed
    one shows the doctor only their own diagnosis and reports: see chat_visible_to)."""
    from app.models.care import ConsultationStatus

    if not user.is_authenticated:
        return False
    if user.role is Role.PATIENT:
        return consultation.patient_id == user.id
    if consultation.status is ConsultationStatus.REQUESTED:
        return can_see_patients(user) and consultation.doctor_id == user.id
    return doctor_keeps_record(user, consultation)


def chat_visible_to(user, consultation) -> bool:
    """The patient's own chat; the doctor's only while treating (the patient's words are theirs)."""
    if not user.is_authenticated:
        return False
    if user.role is Role.PATIENT:
        return consultation.patient_id == user.id
    return doctor_treats(user, consultation)


def doctor_has_share(user, screening_id: int) -> bool:
    """A verified doctor holding an unrevoked share of the screening in a consultation they
    accepted and that is still open."""
    if not can_see_patients(user):
        return False
    from sqlalchemy import select

    from app.extensions import db
    from app.models.care import Consultation, ConsultationStatus, ScreeningShare

    return db.session.scalar(select(ScreeningShare.id).join(Consultation).where(
        ScreeningShare.screening_id == screening_id, ScreeningShare.revoked_at.is_(None),
        Consultation.doctor_id == user.id, Consultation.accepted_at.is_not(None),
        Consultation.status == ConsultationStatus.ACCEPTED).limit(1)) is not None


def report_visible_to(user, report) -> bool:
    """The patient sees final reports; the doctor who wrote a report keeps reading it, drafts
    included, also after the consultation closed."""
    from app.models.care import ReportStatus

    consultation = report.consultation
    if user.is_authenticated and user.role is Role.PATIENT:
        return consultation.patient_id == user.id and report.status is ReportStatus.FINAL
    return report.author_id == user.id and doctor_keeps_record(user, consultation)


def patient_shared_with(user, patient_id: int) -> bool:
    """A verified doctor treating the patient now (an accepted, open consultation): what an
    integration token acting for that doctor may pull about them."""
    if not can_see_patients(user):
        return False
    from sqlalchemy import select

    from app.extensions import db
    from app.models.care import Consultation, ConsultationStatus

    return db.session.scalar(select(Consultation.id).where(
        Consultation.patient_id == patient_id, Consultation.doctor_id == user.id,
        Consultation.accepted_at.is_not(None),
        Consultation.status == ConsultationStatus.ACCEPTED).limit(1)) is not None
