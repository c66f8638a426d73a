"""A patient's copy of everything MoodLens holds about them.

The export is one ZIP: `data.json` (profile, consent records, screenings with their PHQ-9 and
facial results, consultations with their messages, every diagnosis version and the finalised
reports, notifications, and who did what with their record), the media decrypted, the
finalised reports as PDF, and a README that explains it all.
"""

from __future__ import annotations

import functools
import json
import logging
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.clinical.phq9 import ANSWER_OPTIONS, DIFFICULTY_OPTIONS, PHQ9_ITEMS
from app.extensions import db
from app.ml.media import VIDEO_EXTENSIONS
from app.models._time import utcnow
from app.models.audit import AuditEvent
from app.models.care import (
    ChatMessage,
    Consultation,
    Notification,
    Report,
    ReportStatus,
    ScreeningRequest,
)
from app.models.care_prompts import PromptDismissal
from app.models.screening import Screening
from app.models.user import Role, User
from app.security import audit
from app.security.media_crypto import MediaDecryptionError
from app.services import fhir_records
from app.services.privacy.records import PrivacyError
from app.storage import media_store

log = logging.getLogger(__name__)

EXPORT_FORMAT = "moodlens-export/1"
# Exports up to this size are built in memory; larger ones spill to an unlinked temporary file.
EXPORT_SPOOL_BYTES = 32 * 1024 * 1024


@dataclass
class Export:
    file: IO[bytes]  # the ZIP, positioned at its start; the caller closes it
    filename: str
    size: int
    media_files: int
    report_pdfs: int


def _when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    # Timestamps are stored as naive UTC (app/models/_time.py).
    return value.isoformat() + "Z" if isinstance(value, datetime) else value.isoformat()


def _person(user: User | None, patient: User) -> dict:
    if user is None:
        return {"id": None, "name": "a deleted account"}
    if user.id == patient.id:
        return {"id": user.id, "name": "you"}
    entry = {"id": user.id, "name": user.display_name, "role": user.role.value}
    if user.doctor_profile is not None:
        entry["specialty"] = user.doctor_profile.specialty
    return entry


class _Archive:
    """The ZIP being written, and what went into it."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)  # noqa: SIM115
        self.zip = zipfile.ZipFile(self.file, "w", compression=zipfile.ZIP_DEFLATED)
        self.media_files = 0
        self.report_pdfs = 0

    def add(self, name: str, data: bytes, compress: bool = True) -> None:
        # Photos, clips and PDFs are compressed already: storing them is as small and much faster.
        self.zip.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)

    def add_media(self, relative: str | None, name: str, content_type: str) -> dict | None:
        """Decrypt one stored file into the archive; describe it (or why it is missing) for data.json."""
        if not relative:
            return None
        try:
            data = media_store.load(relative)
        except (OSError, ValueError, MediaDecryptionError):
            log.warning("export: media file %s could not be read back", relative, exc_info=True)
            return {"file": None, "problem": "This file could not be read back from storage."}
        self.add(name, data, compress=False)
        self.media_files += 1
        return {"file": name, "content_type": content_type, "bytes": len(data)}

    def close(self) -> tuple[IO[bytes], int]:
        self.zip.close()
        size = self.file.tell()
        self.file.seek(0)
        return self.file, size


def _screening_entry(screening: Screening, archive: _Archive) -> dict:
    folder = f"media/screening-{screening.id}"
    upload_type = screening.media_type or "application/octet-stream"
    upload_name = f"{folder}/upload" + (".jpg" if upload_type == "image/jpeg"
                                         else VIDEO_EXTENSIONS.get(upload_type, ".bin"))
    answers = screening.phq9_answers or []
    return {
        "id": screening.id,
        "kind": screening.kind.value,
        "status": screening.status.value,
        "failure_reason": screening.failure_reason,
        "created_at": _when(screening.created_at),
        "started_at": _when(screening.started_at),
        "finished_at": _when(screening.finished_at),
        "consent_version": screening.consent_version,
        "classifier": {"name": screening.plugin_name, "version": screening.plugin_version},
        "phq9": {
            "answers": [
                {"item": index + 1, "question": PHQ9_ITEMS[index], "score": score,
                 "answer": ANSWER_OPTIONS[score] if 0 <= score < len(ANSWER_OPTIONS) else None}
                for index, score in enumerate(answers[:len(PHQ9_ITEMS)])
            ],
            "difficulty": None if screening.phq9_difficulty is None else {
                "score": screening.phq9_difficulty,
                "answer": DIFFICULTY_OPTIONS[screening.phq9_difficulty]
                if 0 <= screening.phq9_difficulty < len(DIFFICULTY_OPTIONS) else None},
            "total": screening.phq9_total,
            "band": screening.phq9_band,
            "item9": screening.phq9_item9,
            "urgent": screening.urgent,
        },
        "facial_analysis": {
            "face_status": screening.face_status,
            "affect_indicator": screening.affect_indicator,
            "result": screening.facial_result,
            "frames": [
                {"index": frame.index, "t_seconds": frame.t_seconds, "face_found": frame.face_found,
                 "box": frame.box, "probabilities": frame.probabilities}
                for frame in screening.frames
            ],
        },
        "media": {
            "upload_retained": screening.media_path is not None,
            "upload": archive.add_media(screening.media_path, upload_name, upload_type),
            "face_crop": archive.add_media(screening.crop_path, f"{folder}/face-crop.jpg", "image/jpeg"),
            "activation_map": archive.add_media(screening.gradcam_path, f"{folder}/activation-map.png",
                                                "image/png"),
        },
    }


def _consultation_entry(consultation: Consultation, patient: User, archive: _Archive,
                        render_report_pdf: Callable[[Report], bytes] | None) -> dict:
    messages = db.session.scalars(select(ChatMessage).where(ChatMessage.consultation_id == consultation.id)
                                  .order_by(ChatMessage.id))
    requests = db.session.scalars(select(ScreeningRequest).where(
        ScreeningRequest.consultation_id == consultation.id).order_by(ScreeningRequest.id))
    reports = db.session.scalars(select(Report).where(
        Report.consultation_id == consultation.id, Report.status == ReportStatus.FINAL)
        .order_by(Report.finalised_at, Report.id))
    return {
        "id": consultation.id,
        "status": consultation.status.value,
        "doctor": _person(consultation.doctor, patient),
        "urgent": consultation.urgent,
        "your_message": consultation.message,
        "decline_reason": consultation.decline_reason,
        "created_at": _when(consultation.created_at),
        "responded_at": _when(consultation.responded_at),
        "accepted_at": _when(consultation.accepted_at),
        "closed_at": _when(consultation.closed_at),
        "closed_by": _person(db.session.get(User, consultation.closed_by_id), patient)
        if consultation.closed_by_id else None,
        "shared_screenings": [
            {"screening_id": share.screening_id, "source": share.source.value,
             "shared_at": _when(share.created_at), "revoked_at": _when(share.revoked_at)}
            for share in consultation.shares
        ],
        "screening_requests": [
            {"requested_at": _when(request.created_at), "fulfilled_at": _when(request.fulfilled_at),
             "screening_id": request.screening_id}
            for request in requests
        ],
        "messages": [
            {"id": message.id, "from": _person(message.sender, patient), "body": message.body,
             "sent_at": _when(message.created_at), "read_at": _when(message.read_at)}
            for message in messages
        ],
        "diagnoses": [
            {"version": diagnosis.version, "recorded_at": _when(diagnosis.created_at),
             "author": _person(diagnosis.author, patient), "outcome": diagnosis.outcome.value,
             "band_from_phq9": diagnosis.band_from_phq9, "severity": diagnosis.severity,
             "override_reason": diagnosis.override_reason, "notes": diagnosis.notes,
             "plan": diagnosis.plan.value if diagnosis.plan else None, "plan_details": diagnosis.plan_details,
             "followup_interval_days": diagnosis.followup_interval_days}
            for diagnosis in consultation.diagnoses
        ],
        "reports": [_report_entry(report, patient, archive, render_report_pdf) for report in reports],
        "treat_to_target_prompts_dismissed": [
            {"prompt": dismissal.kind, "screening_id": dismissal.screening_id, "reason": dismissal.reason,
             "dismissed_at": _when(dismissal.created_at),
             "by": _person(db.session.get(User, dismissal.doctor_id), patient)}
            for dismissal in db.session.scalars(select(PromptDismissal).where(
                PromptDismissal.consultation_id == consultation.id).order_by(PromptDismissal.id))
        ],
    }


def _report_entry(report: Report, patient: User, archive: _Archive,
                  render_report_pdf: Callable[[Report], bytes] | None) -> dict:
    entry = {
        "id": report.id,
        "author": _person(report.author, patient),
        "period_start": _when(report.period_start),
        "period_end": _when(report.period_end),
        "comments": report.comments,
        "created_at": _when(report.created_at),
        "finalised_at": _when(report.finalised_at),
        "pdf": None,
    }
    if render_report_pdf is not None:
        name = f"reports/report-{report.id}.pdf"
        try:
            archive.add(name, render_report_pdf(report), compress=False)
        except Exception:  # the data is in data.json anyway; a PDF engine problem must not lose it
            log.exception("export: report %s could not be rendered as PDF", report.id)
            entry["pdf_problem"] = "The PDF could not be produced; the report's content is above."
        else:
            entry["pdf"] = name
            archive.report_pdfs += 1
    return entry


def _activity(patient: User) -> list[dict]:
    """The audit events about the patient or by them: who opened their record, and when.
    Selected by the account's subject, never by its bare id: where a database once reused a
    deleted account's id, that account's history is not this patient's."""
    subject = audit.user_subject(patient)
    events = list(db.session.scalars(select(AuditEvent).where(
        or_(AuditEvent.patient_subject == subject, AuditEvent.actor_subject == subject))
        .order_by(AuditEvent.id)))
    actors = {audit.user_subject(user): user for user in db.session.scalars(
        select(User).where(User.id.in_({e.actor_id for e in events if e.actor_id is not None})))}
    entries = []
    for event in events:
        if event.actor_id is None:
            by = {"id": None, "name": "MoodLens (automatic)"}
        else:
            by = _person(actors.get(event.actor_subject), patient)
        entry = {"at": _when(event.created_at), "action": event.action, "by": by, "target": event.target}
        if event.actor_subject == subject:  # the patient's own address; never a clinician's
            entry["ip"] = event.ip
        entries.append(entry)
    return entries


README = """\
MoodLens — your data
====================

This archive holds everything MoodLens stores about you, as it stood on {generated_at} (UTC).

data.json
  One document with your account and profile, your consent records, every screening (your
  PHQ-9 answers and score, the facial-analysis result and its per-frame results), every
  consultation with its messages, each version of your doctor's diagnosis (with their notes),
  your finalised reports, your notifications, and an activity log: who opened or changed
  your record, and when. Times are in UTC. Your password and second-factor secrets are not
  included: they are stored only in a form that cannot be read back.

media/screening-<number>/
  upload.*            the photo or clip you sent (if your clinic keeps it after the analysis)
  face-crop.jpg       the part of the picture where your face was found
  activation-map.png  a heat map over your face showing which areas the expression model
                      weighed most. It is a technical aid for clinicians, not a result.

reports/report-<number>.pdf
  The reports your doctor finalised, as PDF.

fhir-bundle.json
  The same record in FHIR R4 (a Bundle in JSON), the format hospital record systems read:
  your PHQ-9 answers and scores, the facial-affect indicators, confirmed diagnoses and the
  finalised reports (PDF included). Give it to a clinic that asks for your records.

MoodLens stores these files encrypted; the copies here are not. Keep this archive somewhere
safe, and delete it when you no longer need it.

A screening is not a diagnosis. Only a qualified clinician can diagnose depression.
"""


def build_export(patient: User, render_report_pdf: Callable[[Report], bytes] | None = None) -> Export:
    """Everything about `patient` as a ZIP. `render_report_pdf` turns a final report into a PDF
    (the caller owns templates); without it the reports are in data.json only."""
    if patient.role is not Role.PATIENT:
        raise PrivacyError(_("Only patients can download their data here."), 403)
    if render_report_pdf is not None:  # the FHIR bundle attaches the same PDFs: render each once
        render_report_pdf = functools.cache(render_report_pdf)
    generated_at = utcnow()
    archive = _Archive()
    try:
        profile = patient.patient_profile
        screenings = db.session.scalars(select(Screening).where(Screening.patient_id == patient.id)
                                        .order_by(Screening.created_at, Screening.id))
        consultations = db.session.scalars(select(Consultation).where(Consultation.patient_id == patient.id)
                                           .order_by(Consultation.created_at, Consultation.id))
        notices = db.session.scalars(select(Notification).where(Notification.user_id == patient.id)
                                     .order_by(Notification.id))
        document = {
            "format": EXPORT_FORMAT,
            "generated_at": _when(generated_at),
            "account": {
                "id": patient.id, "email": patient.email, "role": patient.role.value,
                "created_at": _when(patient.created_at), "last_login_at": _when(patient.last_login_at),
                "second_factor_enabled": patient.mfa_enabled,
            },
            "profile": {
                "full_name": profile.full_name if profile else None,
                "date_of_birth": _when(profile.date_of_birth) if profile else None,
            },
            "consent_records": [
                {"id": record.id, "kind": record.kind, "text_version": record.text_version,
                 "granted_at": _when(record.granted_at), "withdrawn_at": _when(record.withdrawn_at)}
                for record in (profile.consents if profile else [])
            ],
            "screenings": [_screening_entry(screening, archive) for screening in screenings],
            "consultations": [_consultation_entry(consultation, patient, archive, render_report_pdf)
                              for consultation in consultations],
            "notifications": [
                {"kind": notice.kind, "text": notice.text, "link": notice.link,
                 "created_at": _when(notice.created_at), "read_at": _when(notice.read_at),
                 "emailed_at": _when(notice.emailed_at)}
                for notice in notices
            ],
            "activity": _activity(patient),
        }
        archive.add("data.json", json.dumps(document, indent=2, ensure_ascii=False).encode())
        fhir_bundle = fhir_records.for_patient(patient, render_report_pdf)
        archive.add("fhir-bundle.json", json.dumps(fhir_bundle, indent=2, ensure_ascii=False).encode())
        readme = README.format(generated_at=generated_at.strftime("%Y-%m-%d %H:%M"))
        archive.add("README.txt", readme.encode())
        file, size = archive.close()
    except BaseException:
        archive.file.close()
        raise
    audit.record("privacy.export", actor_id=patient.id, patient_id=patient.id,
                 details={"screenings": len(document["screenings"]),
                          "consultations": len(document["consultations"]),
                          "media_files": archive.media_files, "report_pdfs": archive.report_pdfs,
                          "bytes": size})
    db.session.commit()
    return Export(file=file, filename=f"moodlens-data-{generated_at:%Y-%m-%d}.zip", size=size,
                  media_files=archive.media_files, report_pdfs=archive.report_pdfs)

