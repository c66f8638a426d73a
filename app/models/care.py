"""The care loop: consultations (one per care episode), what the patient shares, chat,
versioned diagnoses, reports and in-app notifications.

A consultation *is* the episode of care: the request, the doctor's answer, the chat, every
diagnosis version, the follow-up screenings and the reports all hang off it, and closing it
keeps the whole record.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._enum import enum_type
from app.models._time import utcnow
from app.models.user import User


class ConsultationStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CLOSED = "closed"


class ShareSource(enum.StrEnum):
    REQUEST = "request"          # chosen by the patient when asking for a consultation
    ADDED = "added"              # shared later by the patient from the consultation page
    REQUESTED = "requested"      # a new screening the doctor asked for
    FOLLOW_UP = "follow_up"      # taken while a confirmed diagnosis is being followed


class DiagnosisOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class TreatmentPlan(enum.StrEnum):
    WATCHFUL_WAITING = "watchful_waiting"
    PSYCHOTHERAPY = "psychotherapy"
    PHARMACOTHERAPY = "pharmacotherapy"
    COMBINED = "combined"
    REFERRAL = "referral"


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class Consultation(db.Model):
    __tablename__ = "consultations"
    __table_args__ = (Index("ix_consultations_doctor_status", "doctor_id", "status"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[ConsultationStatus] = mapped_column(
        enum_type(ConsultationStatus, "consultation_status", length=24), default=ConsultationStatus.REQUESTED)
    urgent: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]  # set once; a closed consultation keeps the doctor's access
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    doctor: Mapped[User] = relationship(foreign_keys=[doctor_id])
    shares: Mapped[list[ScreeningShare]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", order_by="ScreeningShare.id")
    diagnoses: Mapped[list[Diagnosis]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", order_by="Diagnosis.version")

    @property
    def is_open(self) -> bool:
        return self.status in (ConsultationStatus.REQUESTED, ConsultationStatus.ACCEPTED)

    @property
    def current_diagnosis(self) -> Diagnosis | None:
        return self.diagnoses[-1] if self.diagnoses else None

    @property
    def active_shares(self) -> list[ScreeningShare]:
        return [share for share in self.shares if share.revoked_at is None]


class ScreeningShare(db.Model):
    """One screening shared with one consultation's doctor; revoking closes it, never deletes it."""

    __tablename__ = "screening_shares"
    __table_args__ = (UniqueConstraint("consultation_id", "screening_id",
                                       name="uq_screening_shares_consultation_screening"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                 index=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id", ondelete="CASCADE"),
                                              index=True)
    source: Mapped[ShareSource] = mapped_column(enum_type(ShareSource, "share_source", length=24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    consultation: Mapped[Consultation] = relationship(back_populates="shares")
    screening = relationship("Screening")


class ChatMessage(db.Model):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_consultation_id_id", "consultation_id", "id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]  # by the other party (a consultation has exactly two)

    sender: Mapped[User] = relationship()


class ScreeningRequest(db.Model):
    """The doctor asked for a new screening; a task on the patient home until one arrives."""

    __tablename__ = "screening_requests"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                 index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fulfilled_at: Mapped[datetime | None]
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("screenings.id", ondelete="SET NULL"))

    consultation: Mapped[Consultation] = relationship()


class Diagnosis(db.Model):
    """One version of the doctor's conclusion; a change is a new row, never an update."""

    __tablename__ = "diagnoses"
    __table_args__ = (UniqueConstraint("consultation_id", "version",
                                       name="uq_diagnoses_consultation_version"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                 index=True)
    version: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[DiagnosisOutcome] = mapped_column(
        enum_type(DiagnosisOutcome, "diagnosis_outcome", length=24))
    band_from_phq9: Mapped[str | None] = mapped_column(String(32))  # what the screening said
    severity: Mapped[str | None] = mapped_column(String(32))        # what the doctor decided
    override_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[TreatmentPlan | None] = mapped_column(enum_type(TreatmentPlan, "treatment_plan", length=24))
    plan_details: Mapped[str] = mapped_column(Text, default="")
    followup_interval_days: Mapped[int | None]

    consultation: Mapped[Consultation] = relationship(back_populates="diagnoses")
    author: Mapped[User] = relationship()

    @property
    def confirmed(self) -> bool:
        return self.outcome is DiagnosisOutcome.CONFIRMED


class Report(db.Model):
    """A report over an episode or a period; drafted, then finalised (and then frozen in time)."""

    __tablename__ = "care_reports"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                 index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus, "report_status", length=24),
                                                 default=ReportStatus.DRAFT)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finalised_at: Mapped[datetime | None]
    # A final report is a medical document: its page and its PDF are rendered once, at
    # finalising, and kept (encrypted media). Changes come as a new version that amends it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("care_reports.id", ondelete="SET NULL"))
    snapshot_path: Mapped[str | None] = mapped_column(String(255))
    pdf_path: Mapped[str | None] = mapped_column(String(255))

    consultation: Mapped[Consultation] = relationship()
    author: Mapped[User] = relationship()
    amends: Mapped[Report | None] = relationship(remote_side=[id], foreign_keys=[amends_id])


class Notification(db.Model):
    """An in-app notice. Its text never holds clinical content: e-mails copy it verbatim."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(200))
    link: Mapped[str] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
