"""Screenings: one photo or clip plus one PHQ-9, and the facial analysis of that media."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._enum import enum_type
from app.models._time import utcnow

if TYPE_CHECKING:
    from app.models.user import User


class ScreeningStatus(enum.StrEnum):
    PENDING = "pending"  # saved, not yet handed to a worker (e.g. Redis was down)
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (ScreeningStatus.DONE, ScreeningStatus.FAILED)


class ScreeningKind(enum.StrEnum):
    PHOTO = "photo"
    CLIP = "clip"
    QUESTIONNAIRE = "questionnaire"  # the PHQ-9 alone: no face was shared

    @property
    def has_media(self) -> bool:
        return self is not ScreeningKind.QUESTIONNAIRE


class Screening(db.Model):
    __tablename__ = "screenings"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ScreeningKind] = mapped_column(enum_type(ScreeningKind, "screening_kind"))
    status: Mapped[ScreeningStatus] = mapped_column(
        enum_type(ScreeningStatus, "screening_status"), default=ScreeningStatus.PENDING, index=True
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(default=0.0)
    stage: Mapped[str] = mapped_column(String(120), default="")
    # Last sign of life of the job working on it: the sweep requeues `running` rows gone quiet.
    progress_at: Mapped[datetime | None]
    plugin_name: Mapped[str] = mapped_column(String(64))
    plugin_version: Mapped[str | None] = mapped_column(String(64))
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    consent_version: Mapped[str] = mapped_column(String(32))

    # PHQ-9, scored at submission (app.clinical.phq9).
    phq9_answers: Mapped[list[int]] = mapped_column(JSON)
    phq9_difficulty: Mapped[int | None]
    phq9_total: Mapped[int]
    phq9_item9: Mapped[int]
    phq9_band: Mapped[str] = mapped_column(String(32))
    # The crisis rule (item 9 > 0, app.clinical.triage), stored so doctors' lists can show it first
    # whatever the facial analysis says; the name predates the three named rules.
    urgent: Mapped[bool] = mapped_column(default=False, index=True)
    # The patient's choice, at submission, for their treating doctor(s): off keeps it private.
    share_with_care: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Item 9 > 0 keeps a crisis panel on the patient's home until a treating doctor confirms
    # here that they have read this screening; the clinical record says who and when.
    crisis_acknowledged_at: Mapped[datetime | None]
    crisis_acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # Facial analysis (app.ml.pipeline): summary JSON, per-frame rows in ScreeningFrame.
    affect_indicator: Mapped[float | None]
    face_status: Mapped[str | None] = mapped_column(String(16))  # none | one | several
    facial_result: Mapped[dict | None] = mapped_column(JSON)

    # Encrypted files under MEDIA_DIR, by path relative to it.
    media_path: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(64))  # of the decrypted bytes
    crop_path: Mapped[str | None] = mapped_column(String(255))
    gradcam_path: Mapped[str | None] = mapped_column(String(255))

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    crisis_acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[crisis_acknowledged_by_id])
    frames: Mapped[list[ScreeningFrame]] = relationship(
        back_populates="screening",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ScreeningFrame.index",
    )

    def __repr__(self) -> str:
        return f"<Screening {self.id} {self.kind} {self.status}>"


class ScreeningFrame(db.Model):
    """One analysed frame of a clip (a photo has none)."""

    __tablename__ = "screening_frames"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id", ondelete="CASCADE"), index=True)
    index: Mapped[int]
    t_seconds: Mapped[float]
    face_found: Mapped[bool]
    box: Mapped[list[int] | None] = mapped_column(JSON)  # x, y, width, height
    probabilities: Mapped[dict | None] = mapped_column(JSON)

    screening: Mapped[Screening] = relationship(back_populates="frames")
