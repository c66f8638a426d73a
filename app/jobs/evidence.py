"""The periodic refresh of the local validation study, run by the worker's RQ scheduler."""

from __future__ import annotations

from app.extensions import db
from app.jobs import periodic


def refresh_evidence() -> dict:
    from app.services import evidence

    snapshots = evidence.refresh()
    db.session.commit()
    periodic.reschedule("evidence-refresh")
    return {"groups": len(snapshots), "validated": sum(s.validated for s in snapshots)}
