"""Registering, authenticating and administering accounts: the account lifecycle.

Sign-up, password reset and confirmation answer the same whether or not an address has an
account (membership of a depression-screening service is itself sensitive); what differs
goes into the e-mail, which only the owner of the address reads. E-mails are sent by RQ
jobs (app/jobs/account_mail.py), never from a request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.jobs import mail_queue
from app.models._time import utcnow
from app.models.user import DoctorProfile, PatientProfile, Role, User, VerificationStatus
from app.observability import metrics
from app.security import audit, login_throttle, sessions, tokens
from app.security.passwords import hash_password, needs_rehash, verify_password
from app.services import security_notices
from app.services.errors import ServiceError

log = logging.getLogger(__name__)


class AccountError(ServiceError):
    """A problem the person can fix; `str(error)` is shown to them."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def _new_user(email: str, password: str, role: Role) -> User:
    if find_user(email) is not None:
        raise AccountError(_("An account with this e-mail address already exists."))
    return User(email=normalise_email(email), password_hash=hash_password(password), role=role)


def register_patient(email: str, password: str, full_name: str, date_of_birth: date | None,
                     verified: bool = False) -> User:
    """Create a patient account now (sign-up from the web goes through `sign_up_patient`)."""
    user = _new_user(email, password, Role.PATIENT)
    user.email_verified_at = utcnow() if verified else None
    user.patient_profile = PatientProfile(full_name=full_name.strip(), date_of_birth=date_of_birth)
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", actor_id=user.id, patient_id=user.id, details={"role": "patient"})
    db.session.commit()
    return user


def register_doctor(email: str, password: str, full_name: str, licence_number: str,
                    specialty: str, languages: str, verified: bool = False) -> User:
    user = _new_user(email, password, Role.DOCTOR)
    user.email_verified_at = utcnow() if verified else None
    user.doctor_profile = DoctorProfile(
        full_name=full_name.strip(),
        licence_number=licence_number.strip(),
        specialty=specialty.strip(),
        languages=",".join(lang.strip().lower() for lang in languages.split(",") if lang.strip()),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", actor_id=user.id, details={"role": "doctor"})
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user if the password matches and the account is active; audits both outcomes."""
    user = find_user(email)
    if not verify_password(user.password_hash if user else None, password) or not user.active:
        audit.record("auth.login_failed", actor_id=user.id if user else None,
                     details={"email_known": user is not None})
        db.session.commit()
        metrics.LOGIN_FAILURES.labels("password").inc()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("auth.login", actor_id=user.id)
    db.session.commit()
    return user


def create_admin(email: str, password: str) -> User:
    user = _new_user(email, password, Role.ADMIN)
    user.email_verified_at = utcnow()  # an operator created it for an address they know
    db.session.add(user)
    db.session.flush()
    audit.record("account.create_admin", actor_id=None, target=f"user:{user.id}")
    db.session.commit()
    return user


def verify_doctor(email: str, verified_by: User | None = None) -> User:
    user = find_user(email)
    if user is None or user.doctor_profile is None:
        raise AccountError(_("No doctor account with e-mail %(email)s.", email=email))
    profile = user.doctor_profile
    if profile.verification_status is VerificationStatus.VERIFIED:
        raise AccountError(_("%(email)s is already verified.", email=email))
    profile.verification_status = VerificationStatus.VERIFIED
    profile.verified_at = utcnow()
    profile.verified_by_id = verified_by.id if verified_by else None
    profile.rejection_reason = None
    audit.record("doctor.verify", actor_id=verified_by.id if verified_by else None,
                 target=f"user:{user.id}")
    db.session.commit()
    return user


# --- Sign-up with a confirmed address -----------------------------------------------------

def _enqueue_mail(queue_mail, *args) -> None:
    try:
        queue_mail(*args)
    except Exception:  # Redis down: the person can ask again (resend / forgot password)
        log.warning("could not queue account e-mail %s", queue_mail.__name__, exc_info=True)


def _sign_up(email: str, password: str, create, locale: str | None) -> None:
    existing = find_user(email)
    if existing is not None:
        hash_password(password)  # the same work as a new account, so timing tells nothing
        audit.record("account.register_existing", target=f"user:{existing.id}")
        db.session.commit()
        _enqueue_mail(mail_queue.registration_notice, existing.id)
        return
    user = create()
    if locale:  # the language the person signed up in: their e-mails speak it from the first one
        user.locale = locale
        db.session.commit()
    _enqueue_mail(mail_queue.confirmation, user.id)


def sign_up_patient(email: str, password: str, full_name: str, date_of_birth: date | None,
                    locale: str | None = None) -> None:
    """Create an unconfirmed patient account and mail the confirmation link; for a taken address,
    mail its owner instead. Returns nothing either way: the caller answers "check your inbox"."""
    _sign_up(email, password, lambda: register_patient(email, password, full_name, date_of_birth), locale)


def sign_up_doctor(email: str, password: str, full_name: str, licence_number: str,
                   specialty: str, languages: str, locale: str | None = None) -> None:
    _sign_up(email, password, lambda: register_doctor(email, password, full_name, licence_number,
                                                      specialty, languages), locale)


def confirmation_token(user: User) -> str:
    return tokens.make(tokens.CONFIRM_EMAIL, {"u": user.id, "e": user.email})


def read_confirmation(token: str) -> User:
    """The account this confirmation link is for (AccountError when broken or expired)."""
    try:
        payload = tokens.read(tokens.CONFIRM_EMAIL, token,
                              current_app.config["EMAIL_VERIFY_HOURS"] * 3600)
    except tokens.TokenError as error:
        raise AccountError(str(error)) from error
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or user.email != payload.get("e"):
        raise AccountError(_("This link is not valid. Ask for a new one below."))
    return user


def confirm_email(token: str) -> User:
    user = read_confirmation(token)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record("account.email_confirmed", actor_id=user.id, target=f"user:{user.id}")
        db.session.commit()
    return user


def resend_confirmation(user: User) -> None:
    if user.email_verified_at is None:
        _enqueue_mail(mail_queue.confirmation, user.id)


# --- Forgotten and changed passwords ------------------------------------------------------

def password_reset_token(user: User) -> str:
    return tokens.make(tokens.RESET, {"u": user.id, "p": tokens.password_fingerprint(user.password_hash)})


def request_password_reset(email: str) -> None:
    """Queue the reset e-mail; the job looks the address up, so this request does the same work
    (and answers the same) whether or not the address has an account."""
    _enqueue_mail(mail_queue.password_reset, normalise_email(email))


def read_reset_token(token: str) -> User:
    try:
        payload = tokens.read(tokens.RESET, token, current_app.config["PASSWORD_RESET_MINUTES"] * 60)
    except tokens.TokenError as error:
        raise AccountError(str(error)) from error
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not user.active \
            or payload.get("p") != tokens.password_fingerprint(user.password_hash):
        # The fingerprint no longer matches once the password changed: the link was used.
        raise AccountError(_("This link has already been used or is no longer valid. "
                             "Ask for a new one below."))
    return user


def _set_password(user: User, new_password: str, action: str) -> None:
    user.password_hash = hash_password(new_password)
    user.end_all_sessions()
    audit.record(action, actor_id=user.id, target=f"user:{user.id}")
    db.session.commit()
    sessions.end_all(user)
    security_notices.notify(user, security_notices.PASSWORD_CHANGED)


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; ends every session. The second factor stays."""
    user = read_reset_token(token)
    # Following the link proves the address too.
    user.email_verified_at = user.email_verified_at or utcnow()
    _set_password(user, new_password, "auth.password_reset")
    login_throttle.forgive_account(user.email)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise AccountError(_("That is not your current password."))
    _set_password(user, new_password, "auth.password_change")


# --- Logging in ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    locked: bool = False  # too many failures from unknown devices: try later or a known device
    device_cookie: str | None = None  # set on success: marks this browser as a known device


def log_in(email: str, password: str, device_cookie: str | None) -> LoginOutcome:
    """Password check behind brute-force protection that an attacker cannot use to lock the
    owner out (see app/security/login_throttle.py)."""
    known = find_user(email)
    attempt = login_throttle.begin(email, known.id if known else None, device_cookie)
    if login_throttle.refused(attempt):
        audit.record("auth.login_refused", actor_id=known.id if known else None)
        db.session.commit()
        return LoginOutcome(None, locked=True)
    user = authenticate(email, password)
    if user is None:
        login_throttle.record_failure(attempt)
        return LoginOutcome(None)
    return LoginOutcome(user, device_cookie=login_throttle.record_success(attempt, user.id))
