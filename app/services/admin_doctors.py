"""Doctor verification by admins: verify, reject with a reason the applicant sees, revoke.

Access to patients follows `User.is_verified_doctor`, which the policy reads on every request,
so a revoked doctor loses access with their very next click.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.i18n.marker import N_
from app.models._time import utcnow
from app.models.user import DoctorProfile, Role, User, VerificationStatus
from app.security import audit
from app.services import accounts, live
from app.services.errors import ServiceError


class DoctorVerificationError(ServiceError):
    """A verification change that cannot be made."""

    status = 409


class UnknownDoctorError(DoctorVerificationError):
    status = 404


def status_counts() -> dict[VerificationStatus, int]:
    counts = dict(db.session.execute(
        select(DoctorProfile.verification_status, func.count())
        .group_by(DoctorProfile.verification_status)).all())
    return {status: counts.get(status, 0) for status in VerificationStatus}


def list_doctors(status: VerificationStatus | None = VerificationStatus.PENDING) -> list[DoctorProfile]:
    """Applications in one status (oldest first, so the queue is worked in order), or all."""
    query = select(DoctorProfile).join(DoctorProfile.user).order_by(User.created_at, User.id)
    if status is not None:
        query = query.where(DoctorProfile.verification_status == status)
    return list(db.session.scalars(query))


def get_doctor(user_id: int) -> DoctorProfile:
    user = db.session.get(User, user_id)
    if user is None or user.role is not Role.DOCTOR or user.doctor_profile is None:
        raise UnknownDoctorError(_("There is no doctor account with that id."))
    return user.doctor_profile


def verify(user_id: int, admin: User) -> DoctorProfile:
    profile = get_doctor(user_id)
    try:
        accounts.verify_doctor(profile.user.email, verified_by=admin)
    except accounts.AccountError as error:
        raise DoctorVerificationError(str(error)) from error
    return profile


VERIFICATION_WORDS = {VerificationStatus.PENDING: N_("pending"), VerificationStatus.VERIFIED: N_("verified"),
                      VerificationStatus.REJECTED: N_("rejected"), VerificationStatus.REVOKED: N_("revoked")}


def reject(user_id: int, admin: User, reason: str) -> DoctorProfile:
    """Turn down a pending application; the applicant sees `reason` on their home page."""
    profile = _in_status(user_id, VerificationStatus.PENDING,
                         N_("Only pending applications can be rejected; this one is %(status)s."))
    return _close(profile, admin, reason, VerificationStatus.REJECTED, "doctor.reject")


def revoke(user_id: int, admin: User, reason: str) -> DoctorProfile:
    """Withdraw a verification; the doctor loses access to patients immediately."""
    profile = _in_status(user_id, VerificationStatus.VERIFIED,
                         N_("Only verified doctors can be revoked; this one is %(status)s."))
    return _close(profile, admin, reason, VerificationStatus.REVOKED, "doctor.revoke")


def _in_status(user_id: int, status: VerificationStatus, refusal: str) -> DoctorProfile:
    """The doctor's profile if in `status`; else the refusal (a message marked with N_, naming the
    profile's actual status as %(status)s) in the reader's language."""
    profile = get_doctor(user_id)
    if profile.verification_status is not status:
        raise DoctorVerificationError(_(refusal, status=_(VERIFICATION_WORDS[profile.verification_status])))
    return profile


def _close(profile: DoctorProfile, admin: User, reason: str, status: VerificationStatus,
           action: str) -> DoctorProfile:
    reason = (reason or "").strip()
    if not reason:
        raise DoctorVerificationError(_("Give a reason: the doctor will see it."))
    profile.verification_status = status
    profile.rejection_reason = reason
    profile.verified_by_id = admin.id
    profile.verified_at = utcnow()
    audit.record(action, actor_id=admin.id, target=f"user:{profile.user_id}", details={"reason": reason})
    db.session.commit()
    live.access_changed(profile.user_id)  # a revoked doctor's open streams end
    return profile
