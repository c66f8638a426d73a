"""Aggregates of the local validation study: one row per group and refresh, never a patient's value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._time import utcnow


class EvidenceSnapshot(db.Model):
    """How one indicator (plugin version × indicator version) did against one reference standard
    on one kind of media, at one refresh. A group under the minimum size keeps only its counts."""

    __tablename__ = "evidence_snapshots"
    __table_args__ = (Index("ix_evidence_snapshots_group", "plugin_name", "plugin_version",
                            "indicator_version", "media_kind", "reference"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    plugin_name: Mapped[str] = mapped_column(String(64))
    plugin_version: Mapped[str] = mapped_column(String(64))
    indicator_version: Mapped[str] = mapped_column(String(32))
    media_kind: Mapped[str] = mapped_column(String(16))  # photo | clip
    reference: Mapped[str] = mapped_column(String(16))  # phq9 (total >= 10) | diagnosis (confirmed)
    n_positive: Mapped[int]
    n_negative: Mapped[int]
    min_n: Mapped[int]  # the EVIDENCE_MIN_N in force, so the empty state can say "12 of 30"
    threshold: Mapped[float]  # the doctor-suggestion threshold the figures were computed at
    # None while a class is under min_n; else AUC with CI, threshold metrics, Youden threshold
    # with CI, calibration bins, Spearman, ROC points (all over groups, none per patient).
    figures: Mapped[dict | None] = mapped_column(JSON)

    @property
    def validated(self) -> bool:
        return self.figures is not None


class IndicatorThreshold(db.Model):
    """One adopted version of the indicator threshold at which a result suggests seeing a doctor.
    Rows are only added: a result is judged by the version in force when it was shown, so adopting
    a new threshold never changes what an earlier result said."""

    __tablename__ = "indicator_thresholds"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    value: Mapped[float]
    adopted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The aggregates it was adopted from (group, n, AUC, Youden CI): why this number.
    basis: Mapped[dict] = mapped_column(JSON)
