"""What the JSON API returns for a report (the same facts as its page)."""

from __future__ import annotations

from datetime import datetime


def _when(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def report_payload(content: dict) -> dict:
    report, current = content["report"], content["current"]
    return {
        "id": report.id,
        "consultation_id": report.consultation_id,
        "patient_id": content["patient"].id,
        "author": content["doctor"].display_name,
        "status": report.status.value,
        "period_start": _when(report.period_start),
        "period_end": _when(report.period_end),
        "finalised_at": _when(report.finalised_at),
        "severity": content["severity_key"],
        "recommended_action": content["recommended_action"],
        "diagnosis": None if current is None else {
            "outcome": current.outcome.value, "severity": current.severity,
            "plan": current.plan.value if current.plan else None, "version": current.version},
        "screenings": [{"id": s.id, "created_at": _when(s.created_at), "phq9_total": s.phq9_total,
                        "affect_indicator": s.affect_indicator} for s in content["screenings"]],
        "comments": report.comments,
    }
