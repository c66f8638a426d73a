"""The screening analysis job, and how a screening is marked failed.

`analyse_screening` runs in the non-forking worker inside a fresh app context. It uses the
plugin recorded on the screening at submission, writes progress to the row (the page polls
it) at least once a second, and ends with `done`, or `failed` with a reason the patient can
read. Bad media is a `failed` status, never an exception: the worker keeps running.
Enqueueing it and the sweep that keeps no screening waiting forever live beside it, in
app/jobs/analysis_queue.py (which imports this module, never the reverse).
"""

from __future__ import annotations

import logging
import time

import redis
from flask import current_app
from rq import get_current_job
from rq.timeouts import JobTimeoutException
from sqlalchemy import update

from app.extensions import db
from app.i18n.marker import N_
from app.jobs.resources import classifier, face_detector
from app.ml import pipeline
from app.ml.media import MediaError
from app.models._time import utcnow
from app.models.screening import Screening, ScreeningFrame, ScreeningKind, ScreeningStatus
from app.plugins.registry import PluginUnavailable, UnknownPlugin
from app.security import audit
from app.security.media_crypto import MediaDecryptionError
from app.services import language, live
from app.services.followups import link_to_care
from app.storage import media_store

log = logging.getLogger(__name__)

# Progress writes are cheap single-row updates; this keeps a fast photo from writing 20.
PROGRESS_MIN_INTERVAL = 0.25


class _Progress:
    """Stages are written in the patient's language: they read them while they wait."""

    def __init__(self, screening_id: int, speak):
        self.screening_id = screening_id
        self.speak = speak
        self.last = 0.0

    def __call__(self, fraction: float, stage: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_MIN_INTERVAL:
            return
        self.last = now
        stage = self.speak(stage)
        db.session.execute(
            update(Screening)
            .where(Screening.id == self.screening_id)
            .values(progress=round(max(0.0, min(1.0, fraction)), 3), stage=stage[:120], progress_at=utcnow())
        )
        db.session.commit()
        live.publish(live.screening_channel(self.screening_id))
        job = get_current_job()
        if job is not None:
            job.meta.update(progress=fraction, stage=stage)
            try:
                job.save_meta()
            except redis.RedisError:
                pass  # the database row is the source of truth


def analyse_screening(screening_id: int) -> str:
    screening = db.session.get(Screening, screening_id)
    job = get_current_job()
    if screening is None:
        return "deleted"
    if screening.status.finished:
        return f"already {screening.status}"
    if job is not None and screening.rq_job_id and job.id != screening.rq_job_id:
        return "superseded"  # the sweep re-enqueued it under a new job after a worker loss
    screening.status = ScreeningStatus.RUNNING
    screening.attempts += 1
    screening.started_at = utcnow()
    screening.failure_reason = None
    screening.progress = 0.0
    speak = speaker(screening)
    screening.stage = speak(N_("Starting the analysis"))
    screening.progress_at = utcnow()
    db.session.commit()
    live.publish(live.screening_channel(screening_id))
    progress = _Progress(screening_id, speak)
    try:
        result = _run(screening, progress)
    except MediaError as error:
        mark_failed(screening, error.message)
        return "failed"
    except MediaDecryptionError:
        log.exception("screening %s: media could not be decrypted", screening_id)
        mark_failed(screening, N_("The recording could not be read back from storage. Please take a new "
                                  "screening."))
        return "failed"
    except Exception as error:
        db.session.rollback()
        retries_left = bool(job is not None and job.retries_left)
        log.exception("screening %s: analysis error (retry: %s)", screening_id, retries_left)
        screening = db.session.get(Screening, screening_id)
        if screening is None:
            return "deleted"  # the patient deleted their account during the analysis
        if retries_left:
            screening.status = ScreeningStatus.QUEUED
            screening.stage = speak(N_("An error interrupted the analysis; trying again"))
            screening.progress_at = utcnow()
            db.session.commit()
            live.publish(live.screening_channel(screening_id))
        else:
            mark_failed(screening, N_("The analysis took too long. You can retry it.")
                        if isinstance(error, JobTimeoutException)
                        else N_("The analysis failed because of an error on our side. You can retry it."))
        raise
    live.publish(live.screening_channel(screening_id))  # done, or no face found
    if result == "done":
        link_to_care(screening.patient_id)  # a photo or clip joins the patient's care once a face is found
    return result


def speaker(screening: Screening):
    """English text (marked with N_) -> the patient's language, for what they read on the page."""
    spoken = language.language_of(screening.patient)
    return lambda text: language.translate(spoken, text)


def mark_failed(screening: Screening, reason: str) -> None:
    """The one way a screening's analysis ends in failure (the job's errors, the sweep's lost
    jobs): anything uncommitted is dropped, the reason is shown to the patient (in their
    language, when it is a marked message) and audited."""
    db.session.rollback()
    screening = db.session.get(Screening, screening.id)
    speak = speaker(screening)
    screening.status = ScreeningStatus.FAILED
    screening.failure_reason = speak(reason)
    screening.stage = speak(N_("Analysis failed"))
    screening.finished_at = utcnow()
    audit.record(
        "screening.analysis_failed",
        patient_id=screening.patient_id,
        target=f"screening:{screening.id}",
        details={"reason": reason},
    )
    db.session.commit()
    live.publish(live.screening_channel(screening.id))


def _run(screening: Screening, progress: _Progress) -> str:
    config = current_app.config
    progress(0.02, N_("Loading the face models"), force=True)
    try:
        plugin = classifier(config, screening.plugin_name)
    except (UnknownPlugin, PluginUnavailable) as error:
        raise MediaError(N_(
            "The classifier %(plugin)s chosen for this screening is not available on this server. "
            "Please tell your clinic; you can retry later.", plugin=screening.plugin_name)) from error
    detector = face_detector(config)
    progress(0.05, N_("Reading your recording"), force=True)
    data = media_store.load(screening.media_path)
    if screening.kind is ScreeningKind.PHOTO:
        progress(0.1, N_("Finding your face"), force=True)
        analysis = pipeline.analyse_photo(data, plugin, detector)
        frames: list[ScreeningFrame] = []
    else:
        analysis = pipeline.analyse_clip(
            data,
            plugin,
            detector,
            max_seconds=float(config["MAX_CLIP_SECONDS"]),
            max_frame_pixels=int(config["MAX_VIDEO_FRAME_PIXELS"]),
            progress=lambda fraction, stage: progress(fraction, stage),
        )
        frames = [
            ScreeningFrame(
                index=f.index,
                t_seconds=round(f.timestamp, 3),
                face_found=f.probabilities is not None,
                box=list(f.box) if f.box else None,
                probabilities=None
                if f.probabilities is None
                else {k: round(v, 4) for k, v in f.probabilities.items()},
            )
            for f in analysis.frames
        ]
    progress(0.95, N_("Saving the result"), force=True)
    result = analysis.to_dict()
    result.pop("frames", None)  # per-frame rows live in screening_frames
    # Read afresh: the patient may have deleted their account meanwhile; then nothing is stored.
    screening = db.session.get(Screening, progress.screening_id, populate_existing=True)
    if screening is None:
        return "deleted"
    folder = media_store.patient_media_folder(screening.patient_id)
    saved: list[str] = []
    raw = None
    try:
        if analysis.primary_crop_jpeg:
            screening.crop_path = media_store.save(analysis.primary_crop_jpeg, folder, ".crop.jpg")
            saved.append(screening.crop_path)
        screening.frames = frames
        screening.plugin_version = analysis.plugin_version
        screening.facial_result = result
        screening.face_status = analysis.status
        summary = analysis.summary
        screening.affect_indicator = None if summary is None else round(summary.indicator, 1)
        screening.status = ScreeningStatus.DONE
        screening.progress = 1.0
        screening.stage = progress.speak(N_("Done"))
        screening.progress_at = screening.finished_at = utcnow()
        if config.get("MEDIA_RETENTION") == "delete":
            raw, screening.media_path = screening.media_path, None
        audit.record(
            "screening.analysed",
            patient_id=screening.patient_id,
            target=f"screening:{screening.id}",
            details={
                "plugin": screening.plugin_name,
                "face_status": analysis.status,
                "raw_media_deleted": raw is not None,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        for path in saved:  # e.g. the row went with its account meanwhile: leave no file behind
            media_store.delete(path)
        raise
    media_store.delete(raw)  # after the commit: a failed commit must not lose the upload
    return "done"

