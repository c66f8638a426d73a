"""Counts for the admin console: metadata only, never clinical content."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.user import DoctorProfile, Role, User, VerificationStatus


def overview() -> dict:
    by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    pending = db.session.scalar(select(func.count()).select_from(DoctorProfile).where(
        DoctorProfile.verification_status == VerificationStatus.PENDING))
    return {
        "patients": by_role.get(Role.PATIENT, 0),
        "doctors": by_role.get(Role.DOCTOR, 0),
        "admins": by_role.get(Role.ADMIN, 0),
        "pending_doctors": pending,
    }
