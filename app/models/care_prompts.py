"""Treat-to-target prompts a doctor dismissed, with the reason (the prompts themselves are
computed from the screenings each time: app.clinical.outcomes.prompts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._time import utcnow


class PromptDismissal(db.Model):
    """One prompt, for one consultation, as it stood at one screening: a newer screening that
    still calls for the prompt shows it again."""

    __tablename__ = "care_prompt_dismissals"
    __table_args__ = (
        UniqueConstraint("consultation_id", "kind", "screening_id",
                         name="uq_care_prompt_dismissals_consultation_kind_screening"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                 index=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id", ondelete="CASCADE"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
