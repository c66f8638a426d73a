"""The periodic deletion of uploads kept for a screening form's resubmission that never came."""

from __future__ import annotations

from app.jobs import periodic
from app.storage import held_uploads


def sweep_held_uploads() -> int:
    gone = held_uploads.discard_expired()
    periodic.reschedule(HELD_UPLOAD_SWEEP)
    return gone


HELD_UPLOAD_SWEEP = periodic.PeriodicJob("held-upload-sweep", sweep_held_uploads,
                                         "HELD_UPLOAD_SWEEP_SECONDS", 120)
