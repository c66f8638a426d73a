"""Continuous evaluation: follow-up due dates, linking follow-up screenings to the episode,
worsening and remission, and scheduling reminders through RQ (no external cron)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clinical import outcomes
from app.clinical.outcomes import WORSENING_POINTS
from app.clinical.triage import is_crisis, is_urgent_screening
from app.extensions import db
from app.jobs import mail_queue
from app.models._time import utcnow
from app.models.care import (
    Consultation,
    ConsultationStatus,
    ScreeningRequest,
    ScreeningShare,
    ShareSource,
)
from app.models.screening import Screening, ScreeningStatus
from app.security import audit
from app.services import consultations

FACE_FOUND = ("one", "several")


# --- Pure rules -------------------------------------------------------------------------

def is_worsening(totals: Sequence[int], last_item9: int) -> bool:
    """PHQ-9 up by ≥ 5 points from the previous screening, or any thought of self-harm."""
    if is_crisis(last_item9):
        return True
    return len(totals) >= 2 and totals[-1] - totals[-2] >= WORSENING_POINTS


def is_remission(totals: Sequence[int]) -> bool:
    return bool(totals) and outcomes.is_remission(totals[-1])


def due_date(base: datetime, interval_days: int) -> datetime:
    return base + timedelta(days=interval_days)


def due_after(diagnosed_at: datetime, interval_days: int, screened_at: Iterable[datetime]) -> datetime:
    """An interval after the later of the diagnosis and the last screening shared since it."""
    return due_date(max([diagnosed_at, *screened_at]), interval_days)


def state_at(due: datetime, now: datetime, grace_days: int) -> str:
    """"scheduled" before the due date, "due" from it, "overdue" after the grace period."""
    if now < due:
        return "scheduled"
    return "due" if now <= due + timedelta(days=grace_days) else "overdue"


# --- Episode state ----------------------------------------------------------------------

@dataclass(frozen=True)
class FollowUp:
    consultation: Consultation
    due_at: datetime
    state: str  # scheduled | due | overdue


def next_followup(consultation: Consultation, now: datetime | None = None) -> FollowUp | None:
    """When the next follow-up screening falls due: an interval after the later of the
    current confirmed diagnosis and the last screening shared since it."""
    diagnosis = consultation.current_diagnosis
    if (consultation.status is not ConsultationStatus.ACCEPTED or diagnosis is None
            or not diagnosis.confirmed or not diagnosis.followup_interval_days):
        return None
    due = due_after(diagnosis.created_at, diagnosis.followup_interval_days,
                    (s.created_at for s in consultations.shared_screenings(consultation)))
    grace = current_app.config["FOLLOWUP_GRACE_DAYS"]
    return FollowUp(consultation, due, state_at(due, now or utcnow(), grace))


def trend(consultation: Consultation) -> dict:
    screenings = consultations.shared_screenings(consultation)
    totals = [s.phq9_total for s in screenings]
    last_item9 = screenings[-1].phq9_item9 if screenings else 0
    return {"totals": totals,
            "worsening": bool(screenings) and is_worsening(totals, last_item9),
            "remission": is_remission(totals) and len(totals) >= 2}


def active_consultations(patient_id: int | None = None, doctor_id: int | None = None) -> list[Consultation]:
    query = select(Consultation).where(Consultation.status == ConsultationStatus.ACCEPTED)
    if patient_id is not None:
        query = query.where(Consultation.patient_id == patient_id)
    if doctor_id is not None:
        query = query.where(Consultation.doctor_id == doctor_id)
    return list(db.session.scalars(query.order_by(Consultation.id)))


def auto_share_eligible(screening: Screening) -> bool:
    """Shared automatically only if the patient left "share" ticked and the screening says
    something: the questionnaire alone, an analysis that found a face, or, whatever the
    analysis did, a PHQ-9 item 9 above 0 (the crisis rule wins). A test run that failed or
    found no face waits for the patient to share it by hand."""
    if not screening.share_with_care:
        return False
    if is_crisis(screening.phq9_item9):
        return True
    return screening.status is ScreeningStatus.DONE and (
        not screening.kind.has_media or screening.face_status in FACE_FOUND)


def auto_share_consultations(patient_id: int) -> list[Consultation]:
    """The consultations a screening taken now would be shared with (a doctor asked for one,
    or follows a confirmed diagnosis): the screening form offers the choice for these."""
    found = []
    for consultation in active_consultations(patient_id=patient_id):
        diagnosis = consultation.current_diagnosis
        requested = db.session.scalar(select(ScreeningRequest.id).where(
            ScreeningRequest.consultation_id == consultation.id, ScreeningRequest.fulfilled_at.is_(None)))
        if requested is not None or (diagnosis is not None and diagnosis.confirmed):
            found.append(consultation)
    return found


@dataclass
class Sharing:
    """What the patient's result page says about who sees this screening."""

    shared: list[tuple[Consultation, ScreeningShare]]  # active shares in open consultations
    offer: list[Consultation]  # treating consultations it could still be shared with
    pending: bool  # it will be shared when the analysis finishes
    not_shared_because: str | None


def sharing_of(screening: Screening) -> Sharing:
    link_new_screenings(screening.patient_id)
    open_statuses = (ConsultationStatus.REQUESTED, ConsultationStatus.ACCEPTED)
    shared = [(share.consultation, share) for share in db.session.scalars(
        select(ScreeningShare).join(Consultation).where(
            ScreeningShare.screening_id == screening.id, ScreeningShare.revoked_at.is_(None),
            Consultation.status.in_(open_statuses)).order_by(ScreeningShare.id))]
    sharing_with = {consultation.id for consultation, _ in shared}
    offer = [c for c in auto_share_consultations(screening.patient_id) if c.id not in sharing_with]
    pending = bool(offer) and screening.share_with_care and not screening.status.finished
    reason = None
    if offer and not pending:
        if not screening.share_with_care:
            reason = gettext("You chose to keep this screening to yourself.")
        elif screening.status is ScreeningStatus.FAILED:
            reason = gettext("It was not shared automatically because the analysis did not finish.")
        elif not auto_share_eligible(screening):
            reason = gettext("It was not shared automatically because no face was found.")
        elif any(share.revoked_at is not None for share in screening_shares(screening.id)):
            reason = gettext("You stopped sharing it.")
    return Sharing(shared, offer, pending, reason)


def screening_shares(screening_id: int) -> list[ScreeningShare]:
    return list(db.session.scalars(select(ScreeningShare).where(ScreeningShare.screening_id == screening_id)))


def link_new_screenings(patient_id: int) -> int:
    """Share with the treating doctor the screenings taken for an open request or while a
    confirmed diagnosis is followed (the patient consented to this when accepting care).
    Idempotent; returns how many shares it added."""
    added, followed = 0, []
    for consultation in active_consultations(patient_id=patient_id):
        requests = list(db.session.scalars(select(ScreeningRequest).where(
            ScreeningRequest.consultation_id == consultation.id,
            ScreeningRequest.fulfilled_at.is_(None)).order_by(ScreeningRequest.id)))
        diagnosis = consultation.current_diagnosis
        following_since = diagnosis.created_at if diagnosis is not None and diagnosis.confirmed else None
        starts = [r.created_at for r in requests] + ([following_since] if following_since else [])
        if not starts:
            continue
        already = {share.screening_id for share in consultation.shares}
        candidates = list(db.session.scalars(select(Screening).where(
            Screening.patient_id == patient_id, Screening.share_with_care.is_(True),
            Screening.created_at >= min(starts)).order_by(Screening.created_at, Screening.id)))
        for screening in candidates:
            if screening.id in already or not auto_share_eligible(screening):
                continue
            request = next((r for r in requests if r.fulfilled_at is None
                            and screening.created_at >= r.created_at), None)
            if request is None and (following_since is None or screening.created_at < following_since):
                continue
            source = ShareSource.REQUESTED if request is not None else ShareSource.FOLLOW_UP
            try:
                with db.session.begin_nested():
                    db.session.add(ScreeningShare(consultation_id=consultation.id,
                                                  screening_id=screening.id, source=source))
            except IntegrityError:  # another request (e.g. a page and its fragment) linked it first
                continue
            if request is not None:
                request.fulfilled_at, request.screening_id = utcnow(), screening.id
            if is_urgent_screening(screening):
                consultation.urgent = True
            audit.record("screening.share", actor_id=patient_id, patient_id=patient_id,
                         target=f"screening:{screening.id}",
                         details={"consultation_id": consultation.id, "source": source.value})
            consultations.notify_shared(consultation, screening)
            added += 1
            if source is ShareSource.FOLLOW_UP:
                followed.append(consultation)
    if added:
        db.session.commit()
    for consultation in dict.fromkeys(followed):
        schedule_reminders(consultation)  # the next follow-up now counts from this screening
    return added


def patient_tasks(patient_id: int, now: datetime | None = None) -> dict:
    link_new_screenings(patient_id)
    requests = list(db.session.scalars(select(ScreeningRequest).join(Consultation).where(
        Consultation.patient_id == patient_id, Consultation.status == ConsultationStatus.ACCEPTED,
        ScreeningRequest.fulfilled_at.is_(None)).order_by(ScreeningRequest.id)))
    followups = [f for c in active_consultations(patient_id=patient_id)
                 if (f := next_followup(c, now)) is not None]
    return {"requests": requests, "followups": followups}


def doctor_watchlist(doctor_id: int, now: datetime | None = None) -> dict:
    overdue, due, worsening, remission = [], [], [], []
    for consultation in active_consultations(doctor_id=doctor_id):
        link_new_screenings(consultation.patient_id)
        followup = next_followup(consultation, now)
        if followup is not None and followup.state == "overdue":
            overdue.append(followup)
        elif followup is not None and followup.state == "due":
            due.append(followup)
        flags = trend(consultation)
        if flags["worsening"]:
            worsening.append(consultation)
        elif flags["remission"]:
            remission.append(consultation)
    return {"overdue": overdue, "due": due, "worsening": worsening, "remission": remission}


# --- Reminders, scheduled in RQ ---------------------------------------------------------

def schedule_reminders(consultation: Consultation) -> None:
    """Queue the "due" and "overdue" reminders of the next follow-up. Each job checks, when it
    runs, that the follow-up is still pending at that date, so stale ones do nothing."""
    followup = next_followup(consultation)
    if followup is None:
        return
    grace = timedelta(days=current_app.config["FOLLOWUP_GRACE_DAYS"])
    try:
        overdue_at = followup.due_at + grace + timedelta(minutes=1)
        for stage, when in (("due", followup.due_at), ("overdue", overdue_at)):
            mail_queue.followup_reminder(when.replace(tzinfo=UTC), consultation.id, stage,
                                         followup.due_at.isoformat())
    except Exception:  # Redis down: the home pages still show due/overdue; only the mail is lost
        current_app.logger.warning("could not schedule follow-up reminders for consultation %s",
                                   consultation.id)


def link_to_care(patient_id: int) -> None:
    """Share what should be shared with the treating doctor now: at submission, and again when
    the analysis finishes (a photo or clip is shared only once a face was found)."""
    try:
        link_new_screenings(patient_id)
    except Exception:  # the screening is saved; the care pages link it again when opened
        db.session.rollback()
        current_app.logger.exception("could not link screenings of patient %s to their care", patient_id)
