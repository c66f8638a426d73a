"""Taking a screening: validate and store the upload, score the PHQ-9, hand it to a worker.

The row and the encrypted media are committed before anything is enqueued: a worker never
sees a screening that is not in the database, and a Redis outage leaves it `pending`
(app/jobs/analysis_queue.py enqueues it, and its sweep and `flask screenings requeue` later).
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.clinical.phq9 import Phq9Error, Phq9Result, score_phq9
from app.extensions import db
from app.jobs.analysis_queue import enqueue
from app.ml import media
from app.ml.scoring import indicator
from app.models._time import utcnow
from app.models.screening import Screening, ScreeningKind, ScreeningStatus
from app.models.user import Role, User
from app.observability import metrics
from app.security import audit
from app.security.policy import screening_visible_to
from app.services import consent, language
from app.services.errors import ServiceError
from app.services.followups import link_to_care
from app.services.plugin_settings import default_plugin_name
from app.storage import media_store


class ScreeningError(ServiceError):
    """A request the patient can fix; `message` is shown to them, `status` is the HTTP code."""


class ConsentRequired(ScreeningError):
    status = 403

    def __init__(self):
        super().__init__("Please read and accept the screening consent before taking a screening.")


# --- submission ---------------------------------------------------------------------------


def prepare_media(data: bytes) -> tuple[ScreeningKind, bytes, str]:
    """Check an upload by content: (kind, bytes to store, their MIME type), or ScreeningError."""
    config = current_app.config
    if not data:
        raise ScreeningError(_("The file is empty. Please choose a photo or record a clip."))
    detected = media.sniff_media_kind(data)
    try:
        if detected == "image":
            if len(data) > config["MAX_PHOTO_BYTES"]:
                raise ScreeningError(
                    _("This photo is larger than %(size)d MB.",
                      size=config["MAX_PHOTO_BYTES"] // (1024 * 1024)),
                    413
                )
            image = media.decode_image(data)
            # Stored re-encoded: no EXIF, GPS or other metadata of the original survives.
            return ScreeningKind.PHOTO, media.reencode_jpeg(image), "image/jpeg"
        if detected == "video":
            if len(data) > config["MAX_CLIP_BYTES"]:
                raise ScreeningError(
                    _("This clip is larger than %(size)d MB.",
                      size=config["MAX_CLIP_BYTES"] // (1024 * 1024)),
                    413
                )
            media.probe_clip(data, float(config["MAX_CLIP_SECONDS"]), int(config["MAX_VIDEO_FRAME_PIXELS"]))
            return ScreeningKind.CLIP, data, media.video_type(data)
    except media.MediaError as error:
        raise ScreeningError(language.for_reader(error.message), 422) from error
    raise ScreeningError(
        _("This file is neither a photo nor a video we can read. "
        "Please upload a JPEG, PNG or WebP photo, or record a clip."),
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
        raise ScreeningError(_("Only patients can take screenings."), 403)
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
        stage=_("Waiting for the analysis service"),
        plugin_name=default_plugin_name(),
        consent_version=record.text_version,
        **_answers(phq9, share_with_care),
        media_path=path,
        media_type=media_type,
    )
    try:
        db.session.add(screening)
        db.session.flush()
        _audit("screening.submit", patient, screening,
               details={"kind": kind.value, "bytes": len(stored), "filename_given": bool(filename)})
        db.session.commit()
    except Exception:
        db.session.rollback()
        media_store.delete(path)
        raise
    metrics.SCREENINGS_SUBMITTED.labels(screening.plugin_name, kind.value).inc()
    enqueue(screening)
    link_to_care(patient.id)
    return screening


def _audit(action: str, actor: User, screening: Screening, details: dict | None = None) -> None:
    """An event about one screening, filed under its patient; the caller commits."""
    audit.record(action, actor_id=actor.id, patient_id=screening.patient_id,
                 target=f"screening:{screening.id}", details=details)


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
    _audit("screening.submit", patient, screening, details={"kind": ScreeningKind.QUESTIONNAIRE.value})
    db.session.commit()
    link_to_care(patient.id)
    return screening


def retry(screening: Screening, actor: User) -> bool:
    """The patient's "retry analysis" on a failed screening whose media is still there."""
    if screening.status is not ScreeningStatus.FAILED:
        raise ScreeningError(_("Only a failed analysis can be retried."), 409)
    if not screening.media_path:
        raise ScreeningError(
            _("The recording of this screening is no longer stored; please take a new one."), 409
        )
    screening.status = ScreeningStatus.PENDING
    screening.failure_reason = None
    screening.attempts = 0
    _audit("screening.retry", actor, screening)
    db.session.commit()
    return enqueue(screening)


# --- reading ------------------------------------------------------------------------------


def get_for_user(user: User, screening_id: int) -> Screening | None:
    """The screening if `user` may see it (else None: the route answers 404, not 403)."""
    screening = db.session.get(Screening, screening_id)
    if screening is None or not screening_visible_to(user, screening):
        return None
    if user.role is Role.DOCTOR:  # every view of patient data by a doctor is audited
        _audit("patient_data.view", user, screening)
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


def frame_indicators(screening: Screening) -> list[float | None] | None:
    """The facial-affect indicator of each analysed frame of a clip, None where no face was
    found; None for a screening without analysed frames."""
    labels = (screening.facial_result or {}).get("plugin", {}).get("labels")
    if not screening.frames or not labels:
        return None
    return [
        indicator([frame.probabilities.get(label, 0.0) for label in labels], labels)
        if frame.face_found else None
        for frame in screening.frames
    ]
