"""Registering, authenticating and administering accounts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models._time import utcnow
from app.models.user import DoctorProfile, PatientProfile, Role, User, VerificationStatus
from app.observability import metrics
from app.security import audit
from app.security.passwords import hash_password, needs_rehash, verify_password


class AccountError(ValueError):
    """A problem the person can fix; `str(error)` is shown to them."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def _new_user(email: str, password: str, role: Role) -> User:
    if find_user(email) is not None:
        raise AccountError("An account with this e-mail address already exists.")
    return User(email=normalise_email(email), password_hash=hash_password(password), role=role)


def register_patient(email: str, password: str, full_name: str, date_of_birth: date | None) -> User:
    user = _new_user(email, password, Role.PATIENT)
    user.patient_profile = PatientProfile(full_name=full_name.strip(), date_of_birth=date_of_birth)
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", actor_id=user.id, patient_id=user.id, details={"role": "patient"})
    db.session.commit()
    return user


def register_doctor(email: str, password: str, full_name: str, licence_number: str,
                    specialty: str, languages: str) -> User:
    user = _new_user(email, password, Role.DOCTOR)
    user.doctor_profile = DoctorProfile(
        full_name=full_name.strip(),
        licence_number=licence_number.strip(),
        specialty=specialty.strip(),
        languages=",".join(lang.strip().lower() for lang in languages.split(",") if lang.strip()),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", actor_id=user.id, details={"role": "doctor"})
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user if the password matches and the account is active; audits both outcomes."""
    user = find_user(email)
    if not verify_password(user.password_hash if user else None, password) or not user.active:
        audit.record("auth.login_failed", actor_id=user.id if user else None,
                     details={"email_known": user is not None})
        db.session.commit()
        metrics.LOGIN_FAILURES.labels("password").inc()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("auth.login", actor_id=user.id)
    db.session.commit()
    return user


def create_admin(email: str, password: str) -> User:
    user = _new_user(email, password, Role.ADMIN)
    db.session.add(user)
    db.session.flush()
    audit.record("account.create_admin", actor_id=None, target=f"user:{user.id}")
    db.session.commit()
    return user


def verify_doctor(email: str, verified_by: User | None = None) -> User:
    user = find_user(email)
    if user is None or user.doctor_profile is None:
        raise AccountError(f"No doctor account with e-mail {email}.")
    profile = user.doctor_profile
    if profile.verification_status is VerificationStatus.VERIFIED:
        raise AccountError(f"{email} is already verified.")
    profile.verification_status = VerificationStatus.VERIFIED
    profile.verified_at = utcnow()
    profile.verified_by_id = verified_by.id if verified_by else None
    profile.rejection_reason = None
    audit.record("doctor.verify", actor_id=verified_by.id if verified_by else None,
                 target=f"user:{user.id}")
    db.session.commit()
    return user
