"""Who may see what. Routes ask this module; they never re-implement its rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models.user import Role


def role_required(*roles: Role) -> Callable:
    """Log-in required, then one of `roles`; anything else is a 403 with a clear message."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, description="This page is not available for your account type.")
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the access-matrix test
        return wrapped

    return decorator


def can_see_patients(user) -> bool:
    """Only verified doctors ever see patient data; pending, rejected or revoked ones never do."""
    return user.is_authenticated and user.is_verified_doctor


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


# --- Care loop (issue 5) ------------------------------------------------------------------

def _accepted_statuses():
    from app.models.care import ConsultationStatus

    # A closed consultation keeps its record, and its doctor keeps read access to it.
    return (ConsultationStatus.ACCEPTED, ConsultationStatus.CLOSED)


def doctor_treats(user, consultation) -> bool:
    """The consultation's own verified doctor, after accepting it (declined: never)."""
    return bool(can_see_patients(user) and consultation.doctor_id == user.id
                and consultation.accepted_at is not None
                and consultation.status in _accepted_statuses())


def consultation_visible_to(user, consultation) -> bool:
    """Its patient; its verified doctor while the request waits or after accepting it."""
    from app.models.care import ConsultationStatus

    if not user.is_authenticated:
        return False
    if user.role is Role.PATIENT:
        return consultation.patient_id == user.id
    if consultation.status is ConsultationStatus.REQUESTED:
        return can_see_patients(user) and consultation.doctor_id == user.id
    return doctor_treats(user, consultation)


def doctor_has_share(user, screening_id: int) -> bool:
    """A verified doctor holding an unrevoked share of the screening in a consultation they accepted."""
    if not can_see_patients(user):
        return False
    from sqlalchemy import select

    from app.extensions import db
    from app.models.care import Consultation, ScreeningShare

    return db.session.scalar(select(ScreeningShare.id).join(Consultation).where(
        ScreeningShare.screening_id == screening_id, ScreeningShare.revoked_at.is_(None),
        Consultation.doctor_id == user.id, Consultation.accepted_at.is_not(None),
        Consultation.status.in_(_accepted_statuses())).limit(1)) is not None


def report_visible_to(user, report) -> bool:
    """The treating doctor sees drafts and final reports; the patient only final ones."""
    from app.models.care import ReportStatus

    consultation = report.consultation
    if user.is_authenticated and user.role is Role.PATIENT:
        return consultation.patient_id == user.id and report.status is ReportStatus.FINAL
    return doctor_treats(user, consultation)


def patient_shared_with(user, patient_id: int) -> bool:
    """A verified doctor treating (accepted, or closed after accepting) a consultation of the patient."""
    if not can_see_patients(user):
        return False
    from sqlalchemy import select

    from app.extensions import db
    from app.models.care import Consultation

    return db.session.scalar(select(Consultation.id).where(
        Consultation.patient_id == patient_id, Consultation.doctor_id == user.id,
        Consultation.accepted_at.is_not(None),
        Consultation.status.in_(_accepted_statuses())).limit(1)) is not None
