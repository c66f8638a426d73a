"""The periodic refresh of the local validation study, run by the worker's RQ scheduler."""

from __future__ import annotations

from app.extensions import db
from app.jobs import periodic
from app.services import evidence


def refresh_evidence() -> dict:
    snapshots = evidence.refresh()
    db.session.commit()
    periodic.reschedule(EVIDENCE_REFRESH)
    return {"groups": len(snapshots), "validated": sum(s.validated for s in snapshots)}


EVIDENCE_REFRESH = periodic.PeriodicJob("evidence-refresh", refresh_evidence, "EVIDENCE_REFRESH_SECONDS", 600)
