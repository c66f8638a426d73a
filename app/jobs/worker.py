"""The MoodLens RQ worker.

TensorFlow is not fork-safe (DESIGN.md): RQ's default worker forks a child per job, and a
forked child whose parent has run a graph function hangs on its first model call. So the
worker is a `SimpleWorker` (no fork): models are loaded once per process and every job runs
in it. Each job gets a fresh Flask app context so database sessions never leak between jobs.
Serving through LiteRT (`ML_BACKEND=litert`), the worker imports TensorFlow only when a job
needs it — a Grad-CAM render, a plugin that only has Keras, or a missing/stale conversion —
and keeps it loaded from then on (docs/deployment.md gives the memory either way).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from contextlib import contextmanager

import redis
from flask import Flask
from rq import SimpleWorker

from app.jobs import analysis_queue, evidence, held_uploads, notifications, periodic, training
from app.observability.jobs import observed

log = logging.getLogger(__name__)

# Every sweep the worker runs on its scheduler.
SWEEPS = (analysis_queue.SCREENING_SWEEP, notifications.CARE_SWEEP, evidence.EVIDENCE_REFRESH,
          training.TRAINING_SWEEP, held_uploads.HELD_UPLOAD_SWEEP)


def schedule_sweeps() -> None:
    for sweep in SWEEPS:
        periodic.ensure_scheduled(sweep)


def _malloc_trim():
    """glibc's malloc_trim, or None elsewhere (musl, macOS)."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    return trim


class MoodLensWorker(SimpleWorker):
    def __init__(self, *args, app: Flask, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        self._trim = _malloc_trim()

    # RQ's work loop waits out a Redis outage only around its blocking dequeue; the same outage
    # met in the suspension check, the registry cleaning or the heartbeat between two jobs ends
    # the worker ("unhandled exception, quitting"). Skipping those steps while Redis is away
    # lets the dequeue wait for it with its back-off; each step runs again on the next pass.
    def check_for_suspension(self, burst: bool):
        with _redis_outage_skipped("the suspension check"):
            super().check_for_suspension(burst)

    def run_maintenance_tasks(self):
        with _redis_outage_skipped("registry maintenance"):
            super().run_maintenance_tasks()

    def heartbeat(self, *args, **kwargs):
        with _redis_outage_skipped("the heartbeat"):
            super().heartbeat(*args, **kwargs)

    def execute_job(self, job, queue):
        try:
            with self.app.app_context(), observed(job):
                return super().execute_job(job, queue)
        finally:
            # A clip's decoded frames leave freed heap pages that glibc keeps; handing them back
            # after each job holds a long-running worker near its post-load size (≈ 90 MB less).
            if self._trim is not None:
                self._trim(0)



@contextmanager
def _redis_outage_skipped(step: str):
    """Skip one step of the work loop, with a warning, when Redis cannot be reached."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as error:
        log.warning("worker: %s skipped, Redis unreachable (%s)", step, error)
