"""The doctor's caseload as CSV: the rows of the page as the doctor filtered it, for a
spreadsheet, audited without a clinical value or a name."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime

from app.extensions import db
from app.models.user import User
from app.security import audit
from app.services import caseload
from app.services.caseload import Filters

CSV_COLUMNS = ("patient", "latest_phq9", "band", "latest_date", "baseline_phq9", "baseline_date",
               "change_points", "change_percent", "status", "weeks_in_treatment", "next_followup",
               "followup_state", "item9_latest", "unread_messages", "attention")


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(doctor: User, filters: Filters, now: datetime | None = None) -> str:
    """The caseload as the doctor filtered it (their own patients only), audited. The audit row
    holds how many patients and which filters, never a clinical value or a name."""
    result = caseload.caseload(doctor, replace(filters, past=False), now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        o = row.outcome
        percent = o.change_percent
        writer.writerow([
            _safe_cell(row.patient_name),
            o.latest.total if o.latest else "", row.band_label if o.latest else "",
            o.latest.when.date().isoformat() if o.latest else "",
            o.baseline.total if o.baseline else "", o.baseline.when.date().isoformat() if o.baseline else "",
            o.change_points if o.change_points is not None else "",
            round(percent) if percent is not None else "",
            o.status.value, o.weeks_in_treatment if o.weeks_in_treatment is not None else "",
            row.followup_due.date().isoformat() if row.followup_due else "", row.followup_state or "",
            "yes" if o.item9 else "no", row.unread, row.attention.name.lower()])
    audit.record("caseload.export", actor_id=doctor.id, target=f"caseload:{doctor.id}",
                 details={"rows": len(result.rows), "filtered": bool(replace(filters, past=False).query())})
    db.session.commit()
    return out.getvalue()
