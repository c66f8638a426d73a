"""A training run started from the admin console or `flask ml train`, and where it got to.

The model files live on disk (ML_MODELS_DIR/<plugin>/<version>/); this row says how the run
went: its options, live progress (written by the job once per epoch and every few batches),
and how it ended. A run whose worker stops beating its heartbeat is swept to `failed`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._enum import enum_type
from app.models._time import utcnow


class TrainingStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    STOPPED = "stopped"  # the admin pressed Stop; the partial model is kept
    FAILED = "failed"
    DONE = "done"


class TrainingRun(db.Model):
    __tablename__ = "training_runs"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused (audit subjects)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64))
    status: Mapped[TrainingStatus] = mapped_column(
        enum_type(TrainingStatus, "training_status"),
        default=TrainingStatus.QUEUED,
    )
    data_path: Mapped[str] = mapped_column(Text)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    progress: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    stop_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def active(self) -> bool:
        return self.status in (TrainingStatus.QUEUED, TrainingStatus.RUNNING)
