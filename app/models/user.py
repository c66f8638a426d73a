"""Accounts: users, their patient or doctor profile, and consent records."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._enum import enum_type
from app.models._time import utcnow


class Role(enum.StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"


class VerificationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVOKED = "revoked"



class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}  # an id is never handed out twice

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Part of every session cookie's user id: changing it ends every session of this account
    # ("log out everywhere", password or second-factor reset, deactivation).
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    # Second factor (TOTP). Recovery codes are stored only as SHA-256 hashes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    recovery_code_hashes: Mapped[list] = mapped_column(JSON, default=list)
    # The 30-second time step of the last TOTP code accepted: that code and older ones are spent.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Set when the owner followed the confirmation link (or an operator created the account).
    email_verified_at: Mapped[datetime | None]
    # The account's language (a shipped catalogue's code, e.g. "es") and IANA time zone; unset,
    # each request falls back to the browser's (app/web/i18n.py), and e-mails to English and UTC.
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))

    patient_profile: Mapped[PatientProfile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan")
    doctor_profile: Mapped[DoctorProfile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="DoctorProfile.user_id")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_all_sessions(self) -> None:
        self.session_token = secrets.token_hex(16)

    @property
    def is_clinician(self) -> bool:
        return self.role in (Role.DOCTOR, Role.ADMIN)

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot use its session
        return self.active

    @property
    def display_name(self) -> str:
        profile = self.patient_profile or self.doctor_profile
        return profile.full_name if profile else self.email

    @property
    def is_verified_doctor(self) -> bool:
        return (self.role is Role.DOCTOR and self.doctor_profile is not None
                and self.doctor_profile.verification_status is VerificationStatus.VERIFIED)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class PatientProfile(db.Model):
    __tablename__ = "patient_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date | None]

    user: Mapped[User] = relationship(back_populates="patient_profile")
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="ConsentRecord.granted_at")

    def active_consent(self, kind: str) -> ConsentRecord | None:
        for record in reversed(self.consents):
            if record.kind == kind and record.withdrawn_at is None:
                return record
        return None


class ConsentRecord(db.Model):
    """One grant of consent to one version of a consent text; withdrawal closes it, never deletes it."""

    __tablename__ = "consent_records"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profiles.user_id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text_version: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    patient: Mapped[PatientProfile] = relationship(back_populates="consents")


class DoctorProfile(db.Model):
    __tablename__ = "doctor_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    licence_number: Mapped[str] = mapped_column(String(64))
    specialty: Mapped[str] = mapped_column(String(80))
    languages: Mapped[str] = mapped_column(String(200), default="")  # comma-separated, e.g. "en,fr"
    accepting_patients: Mapped[bool] = mapped_column(default=True)
    verification_status: Mapped[VerificationStatus] = mapped_column(
        enum_type(VerificationStatus, "verification_status"), default=VerificationStatus.PENDING)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(back_populates="doctor_profile", foreign_keys=[user_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    @property
    def language_list(self) -> list[str]:
        return [lang.strip() for lang in self.languages.split(",") if lang.strip()]
