"""The doctor directory: verified doctors only, filtered by language and specialty."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.user import DoctorProfile, Role, User, VerificationStatus


def _verified():
    return (select(DoctorProfile).join(User, User.id == DoctorProfile.user_id)
            .where(User.role == Role.DOCTOR, User.active.is_(True),
                   DoctorProfile.verification_status == VerificationStatus.VERIFIED))


def list_doctors(language: str | None = None, specialty: str | None = None) -> list[DoctorProfile]:
    query = _verified()
    if specialty:
        query = query.where(func.lower(DoctorProfile.specialty) == specialty.strip().lower())
    doctors = list(db.session.scalars(query.order_by(DoctorProfile.accepting_patients.desc(),
                                                     DoctorProfile.full_name)))
    if language:
        wanted = language.strip().lower()
        doctors = [d for d in doctors if wanted in (lang.lower() for lang in d.language_list)]
    return doctors


def filter_options() -> dict[str, list[str]]:
    profiles = list(db.session.scalars(_verified()))
    return {"languages": sorted({lang for p in profiles for lang in p.language_list}),
            "specialties": sorted({p.specialty for p in profiles})}
