"""Taking a screening: validate and store the upload, score the PHQ-9, hand it to a worker.

The row and the encrypted media are committed before anything is enqueued: a worker never
sees a screening that is not in the database, and a Redis outage leaves it `pending`
(the sweep in app/jobs/analysis.py and `flask screenings requeue` enqueue it later).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

import av
import redis
from flask import current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from app.extensions import db
from app.jobs import periodic
from app.jobs.queue import get_queue, get_redis, redis_available
from app.ml import media
from app.clinical.phq9 import Phq9Error, Phq9Result, score_phq9
from app.models._time import utcnow
from app.models.screening import Screening, ScreeningKind, ScreeningStatus
from app.models.user import Role, User
from app.observability import metrics
from app.security import audit
from app.security.policy import screening_visible_to
from app.services import consent, media_store
from app.services.plugin_settings import default_plugin_name

ANALYSIS_JOB = "app.jobs.analysis.analyse_screening"
VIDEO_TYPES = {b"\x1a\x45\xdf\xa3": "video/webm", b"OggS": "video/ogg"}


class ScreeningError(Exception):
    """A request the patient can fix; `message` is shown to them, `status` is the HTTP code."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        self.message = message
        if status is not None:
            self.status = status
        super().__init__(message)


class ConsentRequired(ScreeningError):
    status = 403

    def __init__(self):
        super().__init__("Please read and accept the screening consent before taking a screening.")


# --- submission ---------------------------------------------------------------------------


def _video_type(data: bytes) -> str:
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"RIFF":
        return "video/x-msvideo"
    return VIDEO_TYPES.get(data[:4], "application/octet-stream")


def _probe_clip(data: bytes, max_seconds: float, max_frame_pixels: int) -> None:
    """Cheap checks at upload: a video stream, not obviously too long, first frame decodes.

    Packets are only demuxed (not decoded), so this costs milliseconds; the worker decodes
    every frame and catches what this cannot see (webm from Chromium has no duration).
    """
    try:
        with media.open_video(data, max_frame_pixels) as container:
            if not container.streams.video:
                raise media.NoVideoFrames()
            stream = container.streams.video[0]
            first = last = None
            for packet in container.demux(stream):
                if packet.pts is None or packet.time_base is None:
                    continue
                seconds = float(packet.pts * packet.time_base)
                first = seconds if first is None else min(first, seconds)
                last = seconds if last is None else max(last, seconds)
                if last - first > max_seconds + 0.5:
                    raise media.ClipTooLong(
                        f"This clip is longer than {max_seconds:g} seconds. Please record a shorter clip."
                    )
    except media.MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise media.NotAVideo("This recording is damaged. Please record the clip again.") from exc
    # One decoded frame proves the codec works (decode_clip raises MediaError otherwise); one
    # thread and FFmpeg's max_pixels keep a lying clip from ballooning the web process.
    next(media.decode_clip(data, max_seconds=max_seconds, max_frame_pixels=max_frame_pixels, threads=1), None)


def prepare_media(data: bytes) -> tuple[ScreeningKind, bytes, str]:
    """Check an upload by content: (kind, bytes to store, their MIME type), or ScreeningError."""
    config = current_app.config
    if not data:
        raise ScreeningError("The file is empty. Please choose a photo or record a clip.")
    detected = media.sniff_media_kind(data)
    try:
        if detected == "image":
            if len(data) > config["MAX_PHOTO_BYTES"]:
                raise ScreeningError(
                    f"This photo is larger than {config['MAX_PHOTO_BYTES'] // (1024 * 1024)} MB.", 413
                )
            image = media.decode_image(data)
            # Stored re-encoded: no EXIF, GPS or other metadata of the original survives.
            return ScreeningKind.PHOTO, media.reencode_jpeg(image), "image/jpeg"
        if detected == "video":
            if len(data) > config["MAX_CLIP_BYTES"]:
                raise ScreeningError(
                    f"This clip is larger than {config['MAX_CLIP_BYTES'] // (1024 * 1024)} MB.", 413
                )
            _probe_clip(data, float(config["MAX_CLIP_SECONDS"]), int(config["MAX_VIDEO_FRAME_PIXELS"]))
            return ScreeningKind.CLIP, data, _video_type(data)
    except media.MediaError as error:
        raise ScreeningError(error.message, 422) from error
    raise ScreeningError(
        "This file is neither a photo nor a video we can read. "
        "Please upload a JPEG, PNG or WebP photo, or record a clip.",
        415,
    )


def submit_screening(
    patient: User,
    media_bytes: bytes | None,
    filename: str | None,
    answers: Sequence[int],
    difficulty: int | None,
    share_with_care: bool = True,
) -> Screening:
    """Validate, store encrypted, commit, then enqueue. `filename` is only logged, never trusted.

    Without media (`None`) it is a questionnaire-only screening: finished at once, nothing to
    analyse, and otherwise the same (result page, history, sharing, follow-up)."""
    if patient.role is not Role.PATIENT:
        raise ScreeningError("Only patients can take screenings.", 403)
    record = consent.active_screening_consent(patient)
    if record is None:
        raise ConsentRequired()
    try:
        phq9 = score_phq9(answers, difficulty)
    except Phq9Error as error:
        raise ScreeningError(error.message, 422) from error
    if media_bytes is None:
        return _submit_questionnaire_only(patient, record.text_version, phq9, share_with_care)
    kind, stored, media_type = prepare_media(media_bytes)
    path = media_store.save(
        stored,
        media_store.patient_media_folder(patient.id),
        ".jpg" if kind is ScreeningKind.PHOTO else ".video",
    )
    screening = Screening(
        patient_id=patient.id,
        kind=kind,
        status=ScreeningStatus.PENDING,
        stage="Waiting for the analysis service",
        plugin_name=default_plugin_name(),
        consent_version=record.text_version,
        **_answers(phq9, share_with_care),
        media_path=path,
        media_type=media_type,
    )
    try:
        db.session.add(screening)
        db.session.flush()
        audit.record(
            "screening.submit",
            actor_id=patient.id,
            patient_id=patient.id,
            target=f"screening:{screening.id}",
            details={
                "kind": kind.value,
                "bytes": len(stored),
                "filename_given": bool(filename),
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        media_store.delete(path)
        raise
    metrics.SCREENINGS_SUBMITTED.labels(screening.plugin_name, kind.value).inc()
    enqueue(screening)
    link_to_care(patient.id)
    return screening


def _answers(phq9: Phq9Result, share_with_care: bool) -> dict:
    """The columns every screening takes from its PHQ-9 and the patient's sharing choice."""
    return {"phq9_answers": list(phq9.answers), "phq9_difficulty": phq9.difficulty,
            "phq9_total": phq9.total, "phq9_item9": phq9.answers[8], "phq9_band": phq9.band,
            "urgent": phq9.item9_positive, "share_with_care": share_with_care}


def _submit_questionnaire_only(patient: User, consent_version: str, phq9: Phq9Result,
                               share_with_care: bool) -> Screening:
    now = utcnow()
    screening = Screening(
        patient_id=patient.id,
        kind=ScreeningKind.QUESTIONNAIRE,
        status=ScreeningStatus.DONE,
        stage="",
        progress=1.0,
        plugin_name="",  # no classifier was involved
        consent_version=consent_version,
        **_answers(phq9, share_with_care),
        started_at=now,
        finished_at=now,
    )
    db.session.add(screening)
    db.session.flush()
    audit.record("screening.submit", actor_id=patient.id, patient_id=patient.id,
                 target=f"screening:{screening.id}", details={"kind": ScreeningKind.QUESTIONNAIRE.value})
    db.session.commit()
    link_to_care(patient.id)
    return screening


def link_to_care(patient_id: int) -> None:
    """Share what should be shared with the treating doctor now: at submission, and again when
    the analysis finishes (a photo or clip is shared only once a face was found)."""
    from app.services.followups import link_new_screenings

    try:
        link_new_screenings(patient_id)
    except Exception:  # the screening is saved; the care pages link it again when opened
        db.session.rollback()
        current_app.logger.exception("could not link screenings of patient %s to their care", patient_id)


# --- queueing -----------------------------------------------------------------------------


def enqueue(screening: Screening) -> bool:
    """Hand a committed screening to the workers. False (and `pending`) if Redis is down."""
    job_id = f"screening-{screening.id}-{secrets.token_hex(4)}"
    screening.status = ScreeningStatus.QUEUED
    screening.rq_job_id = job_id
    screening.stage = "Waiting for a free analyser"
    screening.progress = 0.0
    screening.progress_at = utcnow()
    db.session.commit()  # before enqueueing: the worker must find the row as `queued`
    config = current_app.config
    try:
        get_queue().enqueue(
            ANALYSIS_JOB,
            screening.id,
            job_id=job_id,
            job_timeout=config["SCREENING_JOB_TIMEOUT"],
            retry=Retry(max=max(0, config["SCREENING_MAX_ATTEMPTS"] - 1)),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
    except redis.RedisError:
        current_app.logger.warning("Redis unavailable: screening %s stays pending", screening.id)
        screening.status = ScreeningStatus.PENDING
        screening.rq_job_id = None
        screening.stage = "Waiting for the analysis service"
        db.session.commit()
        return False
    periodic.ensure_scheduled("screening-sweep")
    return True


def ensure_enqueued(screening: Screening) -> bool:
    """Give a `pending` screening another chance (called while its page polls)."""
    if screening.status is not ScreeningStatus.PENDING:
        return False
    # Checked first: a page polling twice a second must not write to the database while Redis is down.
    return redis_available() and enqueue(screening)


def retry(screening: Screening, actor: User) -> bool:
    """The patient's "retry analysis" on a failed screening whose media is still there."""
    if screening.status is not ScreeningStatus.FAILED:
        raise ScreeningError("Only a failed analysis can be retried.", 409)
    if not screening.media_path:
        raise ScreeningError(
            "The recording of this screening is no longer stored; please take a new one.", 409
        )
    screening.status = ScreeningStatus.PENDING
    screening.failure_reason = None
    screening.attempts = 0
    audit.record(
        "screening.retry",
        actor_id=actor.id,
        patient_id=screening.patient_id,
        target=f"screening:{screening.id}",
    )
    db.session.commit()
    return enqueue(screening)


def _job_exists(job_id: str | None) -> bool:
    if not job_id:
        return False
    try:
        Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return False
    return True


def requeue_waiting(stale_seconds: int | None = None) -> dict[str, int]:
    """Enqueue `pending` screenings; recover `queued`/`running` ones whose job was lost.

    A `running` screening with no progress for `stale_seconds` lost its worker (killed,
    out of memory, machine restarted): it is enqueued again, or failed with a retryable
    reason once it has used up SCREENING_MAX_ATTEMPTS. Raises redis.RedisError if Redis is down.
    """
    get_redis().ping()
    config = current_app.config
    stale = stale_seconds if stale_seconds is not None else config["SCREENING_STALE_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=stale)
    counts = {"enqueued": 0, "recovered": 0, "failed": 0}
    for screening in db.session.scalars(
        select(Screening).where(Screening.status == ScreeningStatus.PENDING).order_by(Screening.id)
    ):
        counts["enqueued"] += enqueue(screening)
    waiting = db.session.scalars(
        select(Screening)
        .where(
            Screening.status.in_([ScreeningStatus.QUEUED, ScreeningStatus.RUNNING]),
            Screening.progress_at < cutoff,
        )
        .order_by(Screening.id)
    ).all()
    for screening in waiting:
        if screening.status is ScreeningStatus.QUEUED and _job_exists(screening.rq_job_id):
            continue  # still waiting its turn in the queue
        if screening.attempts >= config["SCREENING_MAX_ATTEMPTS"]:
            mark_failed(
                screening,
                "The analysis was interrupted several times. You can retry it, or take a new screening.",
            )
            counts["failed"] += 1
            continue
        current_app.logger.warning(
            "screening %s: job %s lost while %s; requeued",
            screening.id,
            screening.rq_job_id,
            screening.status,
        )
        enqueue(screening)
        counts["recovered"] += 1
    return counts


def mark_failed(screening: Screening, reason: str) -> None:
    screening.status = ScreeningStatus.FAILED
    screening.failure_reason = reason
    screening.stage = "Analysis failed"
    screening.finished_at = utcnow()
    db.session.commit()


# --- reading ------------------------------------------------------------------------------


def get_for_user(user: User, screening_id: int) -> Screening | None:
    """The screening if `user` may see it (else None: the route answers 404, not 403)."""
    screening = db.session.get(Screening, screening_id)
    if screening is None or not screening_visible_to(user, screening):
        return None
    if user.role is Role.DOCTOR:  # every view of patient data by a doctor is audited
        audit.record(
            "patient_data.view",
            actor_id=user.id,
            patient_id=screening.patient_id,
            target=f"screening:{screening.id}",
        )
        db.session.commit()
    return screening


def list_for_patient(patient: User, limit: int | None = None) -> list[Screening]:
    query = (
        select(Screening)
        .where(Screening.patient_id == patient.id)
        .order_by(Screening.created_at.desc(), Screening.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))
