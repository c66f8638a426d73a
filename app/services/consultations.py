"""Consultation requests, the doctor's answer, explicit per-screening sharing, closing."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.clinical.triage import is_urgent_screening
from app.extensions import db
from app.i18n.marker import N_
from app.models._time import utcnow
from app.models.care import Consultation, ConsultationStatus, ScreeningShare, ShareSource
from app.models.screening import Screening, ScreeningStatus
from app.models.user import DoctorProfile, Role, User, VerificationStatus
from app.security import audit
from app.security.policy import care_records_visible_to, consultation_visible_to, screening_visible_to
from app.services import links, live, notifications
from app.services.errors import ServiceError

MESSAGE_MAX = 2000
DECLINE_REASON_MAX = 1000


class CareError(ServiceError):
    """A step of the care loop the user cannot take now."""


def shareable_screenings(patient_id: int) -> list:
    return list(db.session.scalars(
        select(Screening).where(Screening.patient_id == patient_id,
                                Screening.status != ScreeningStatus.FAILED)
        .order_by(Screening.created_at.desc())))


def _verified_doctor(doctor_id: int) -> User | None:
    user = db.session.get(User, doctor_id)
    return user if user is not None and user.is_verified_doctor else None


def first_available_doctor(exclude: set[int]) -> User | None:
    """The verified, accepting doctor with the fewest open consultations."""
    open_load = (select(func.count(Consultation.id))
                 .where(Consultation.doctor_id == User.id,
                        Consultation.status.in_([ConsultationStatus.REQUESTED,
                                                 ConsultationStatus.ACCEPTED]))
                 .correlate(User).scalar_subquery())
    query = (select(User).join(DoctorProfile, DoctorProfile.user_id == User.id)
             .where(User.role == Role.DOCTOR, User.active.is_(True),
                    DoctorProfile.verification_status == VerificationStatus.VERIFIED,
                    DoctorProfile.accepting_patients.is_(True))
             .order_by(open_load, User.id))
    if exclude:
        query = query.where(User.id.not_in(exclude))
    return db.session.scalars(query.limit(1)).first()


def open_consultation_between(patient_id: int, doctor_id: int) -> Consultation | None:
    return db.session.scalars(select(Consultation).where(
        Consultation.patient_id == patient_id, Consultation.doctor_id == doctor_id,
        Consultation.status.in_([ConsultationStatus.REQUESTED, ConsultationStatus.ACCEPTED]))).first()


def request_consultation(patient: User, doctor_id: int | None, screening_ids: list[int],
                         message: str) -> Consultation:
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise CareError(_("Your message is too long (at most %(count)d characters).", count=MESSAGE_MAX))
    own = {s.id: s for s in shareable_screenings(patient.id)}
    unknown = [sid for sid in screening_ids if sid not in own]
    if unknown:
        raise CareError(_("You can only share your own screenings."), 404)
    if doctor_id is None:
        busy = set(db.session.scalars(select(Consultation.doctor_id).where(
            Consultation.patient_id == patient.id,
            Consultation.status.in_([ConsultationStatus.REQUESTED, ConsultationStatus.ACCEPTED]))))
        doctor = first_available_doctor(exclude=busy)
        if doctor is None:
            raise CareError(_("No doctor is available right now. Please try again later."), 409)
    else:
        doctor = _verified_doctor(doctor_id)
        if doctor is None:
            raise CareError(_("That doctor is not in the MoodLens directory."), 404)
        if not doctor.doctor_profile.accepting_patients:
            raise CareError(_("That doctor is not accepting new patients at the moment."), 409)
    existing = open_consultation_between(patient.id, doctor.id)
    if existing is not None:
        raise CareError(_("You already have an open consultation with Dr %(name)s.",
                          name=doctor.display_name), 409)

    shared = [own[sid] for sid in dict.fromkeys(screening_ids)]
    consultation = Consultation(patient_id=patient.id, doctor_id=doctor.id, message=message,
                                urgent=any(is_urgent_screening(s) for s in shared))
    db.session.add(consultation)
    db.session.flush()
    for screening in shared:
        db.session.add(ScreeningShare(consultation_id=consultation.id, screening_id=screening.id,
                                      source=ShareSource.REQUEST))
    audit.record("consultation.request", actor_id=patient.id, patient_id=patient.id,
                 target=f"consultation:{consultation.id}",
                 details={"doctor_id": doctor.id, "shared": [s.id for s in shared]})
    kind = "request.urgent" if consultation.urgent else "request.new"
    text = N_("An urgent consultation request is waiting for you") if consultation.urgent \
        else N_("A new consultation request is waiting for you")
    notifications.notify(doctor.id, kind, text, links.consultation_path(consultation.id))
    db.session.commit()
    return consultation


def _require(consultation: Consultation, *statuses: ConsultationStatus, action: str) -> None:
    if consultation.status not in statuses:
        raise CareError(f"This consultation is {consultation.status.value}; it cannot be {action}.", 409)


def accept(doctor: User, consultation: Consultation) -> Consultation:
    _require(consultation, ConsultationStatus.REQUESTED, action="accepted")
    consultation.accepted_at = utcnow()
    return _answer(doctor, consultation, ConsultationStatus.ACCEPTED, "consultation.accept",
                   "request.accepted", N_("A doctor accepted your consultation request"))


def decline(doctor: User, consultation: Consultation, reason: str) -> Consultation:
    reason = (reason or "").strip()
    if not reason:
        raise CareError(_("Please give the patient a reason."))
    if len(reason) > DECLINE_REASON_MAX:
        raise CareError(_("The reason is too long (at most %(count)d characters).", count=DECLINE_REASON_MAX))
    _require(consultation, ConsultationStatus.REQUESTED, action="declined")
    consultation.decline_reason = reason
    return _answer(doctor, consultation, ConsultationStatus.DECLINED, "consultation.decline",
                   "request.declined", N_("A doctor answered your consultation request"))


def _answer(doctor: User, consultation: Consultation, status: ConsultationStatus, action: str,
            kind: str, text: str) -> Consultation:
    """The doctor's answer to a request: recorded (an acceptance's time is its answer's time),
    audited, and told to the patient."""
    consultation.status = status
    consultation.responded_at = consultation.accepted_at or utcnow()
    audit.record(action, actor_id=doctor.id, patient_id=consultation.patient_id,
                 target=f"consultation:{consultation.id}")
    notifications.notify(consultation.patient_id, kind, text, links.consultation_path(consultation.id))
    db.session.commit()
    return consultation


def close(user: User, consultation: Consultation) -> Consultation:
    _require(consultation, ConsultationStatus.REQUESTED, ConsultationStatus.ACCEPTED, action="closed")
    consultation.status = ConsultationStatus.CLOSED
    consultation.closed_at = utcnow()
    consultation.closed_by_id = user.id
    audit.record("consultation.close", actor_id=user.id, patient_id=consultation.patient_id,
                 target=f"consultation:{consultation.id}")
    other = consultation.doctor_id if user.id == consultation.patient_id else consultation.patient_id
    notifications.notify(other, "consultation.closed", N_("A consultation was closed"),
                         links.consultation_path(consultation.id))
    db.session.commit()
    live.access_changed(consultation.patient_id, consultation.doctor_id)  # their open chat streams end
    return consultation


def share_screening(patient: User, consultation: Consultation, screening_id: int,
                    source: ShareSource = ShareSource.ADDED) -> ScreeningShare:
    _require(consultation, ConsultationStatus.REQUESTED, ConsultationStatus.ACCEPTED, action="changed")
    screening = db.session.get(Screening, screening_id)
    if screening is None or screening.patient_id != patient.id:
        raise CareError(_("You can only share your own screenings."), 404)
    share = db.session.scalars(select(ScreeningShare).where(
        ScreeningShare.consultation_id == consultation.id,
        ScreeningShare.screening_id == screening_id)).first()
    if share is None:
        share = ScreeningShare(consultation_id=consultation.id, screening_id=screening_id, source=source)
        db.session.add(share)
    else:
        share.revoked_at = None
    if is_urgent_screening(screening):
        consultation.urgent = True
    audit.record("screening.share", actor_id=patient.id, patient_id=patient.id,
                 target=f"screening:{screening_id}", details={"consultation_id": consultation.id})
    notify_shared(consultation, screening)
    db.session.commit()
    return share


def notify_shared(consultation: Consultation, screening: Screening) -> None:
    """Tell the doctor a screening was shared (by hand or automatically), urgent ones as such;
    once per screening and consultation."""
    urgent = is_urgent_screening(screening)
    notifications.notify(consultation.doctor_id,
                         "screening.shared.urgent" if urgent else "screening.shared",
                         N_("An urgent new screening was shared with you") if urgent
                         else N_("A new screening was shared with you"),
                         links.consultation_path(consultation.id),
                         dedupe_key=f"shared:{consultation.id}:{screening.id}")


def revoke_share(patient: User, consultation: Consultation, share_id: int) -> ScreeningShare:
    share = db.session.get(ScreeningShare, share_id)
    if share is None or share.consultation_id != consultation.id:
        raise CareError(_("That share does not exist."), 404)
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        audit.record("screening.unshare", actor_id=patient.id, patient_id=patient.id,
                     target=f"screening:{share.screening_id}",
                     details={"consultation_id": consultation.id})
        db.session.commit()
        live.access_changed(consultation.doctor_id)  # the doctor's open progress stream ends
    return share


def doctor_inbox(doctor_id: int) -> list[Consultation]:
    """Requests waiting for this doctor: urgent first, then the longest-waiting first."""
    return list(db.session.scalars(
        select(Consultation).where(Consultation.doctor_id == doctor_id,
                                   Consultation.status == ConsultationStatus.REQUESTED)
        .order_by(case((Consultation.urgent.is_(True), 0), else_=1), Consultation.created_at,
                  Consultation.id)))


def consultations_of(user: User) -> list[Consultation]:
    if not care_records_visible_to(user):
        return []
    column = Consultation.doctor_id if user.role is Role.DOCTOR else Consultation.patient_id
    return list(db.session.scalars(select(Consultation).where(column == user.id)
                                   .order_by(Consultation.created_at.desc(), Consultation.id.desc())))


def shared_screenings(consultation: Consultation) -> list:
    """Screenings the doctor may see in this consultation, oldest first."""
    ids = [share.screening_id for share in consultation.active_shares]
    if not ids:
        return []
    return list(db.session.scalars(select(Screening).where(Screening.id.in_(ids))
                                   .order_by(Screening.created_at, Screening.id)))


# --- Reading a patient's record -----------------------------------------------------------

def get_for_user(user: User, consultation_id: int) -> Consultation | None:
    """The consultation if `user` may see it (app.security.policy decides), else None."""
    consultation = db.session.get(Consultation, consultation_id)
    return consultation if consultation and consultation_visible_to(user, consultation) else None


def shared_screening_for(doctor: User, consultation: Consultation, screening_id: int) -> Screening | None:
    """A screening of this consultation's patient that `doctor` may see, else None."""
    screening = db.session.get(Screening, screening_id)
    if (screening is None or screening.patient_id != consultation.patient_id
            or not screening_visible_to(doctor, screening)):
        return None
    return screening


def record_view(user: User, consultation: Consultation, target: str) -> None:
    """Audit every look a doctor takes at a patient's data (patients reading their own: not)."""
    if user.role is Role.DOCTOR:
        audit.record("patient_data.view", actor_id=user.id, patient_id=consultation.patient_id,
                     target=target)
        db.session.commit()


def record_reads(user: User, seen: list[Consultation], where: str) -> None:
    """Audit a clinician's look at lists and polled fragments that show patients (the chat log,
    the home panels, the consultation list): one coalesced row per consultation and place."""
    if user.role is not Role.DOCTOR:
        return
    recorded = [audit.record_read(user.id, c.patient_id, f"consultation:{c.id}:{where}") for c in seen]
    if any(recorded):
        db.session.commit()
