"""Enrolling, checking and resetting the second factor.

TOTP codes are single-use: the accepted time step is stored, and only a newer step is taken
next time (a conditional UPDATE, so two requests racing with one code cannot both win).
Wrong codes back off: after MFA_MAX_FAILURES the account takes no code for MFA_LOCK_SECONDS,
doubling with each further lock within the hour. A password is needed first, so this lock is
not a lever for strangers.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, update

from app.extensions import db
from app.jobs.queue import get_redis
from app.models.user import User
from app.observability import metrics
from app.security import audit, mfa, sessions
from app.security.passwords import verify_password
from app.services import security_notices
from app.services.errors import ServiceError


class MfaError(ServiceError):
    """A second-factor code or enrolment that was not accepted."""


def locked_for(user: User) -> int:
    """Seconds until this account takes second-factor codes again (0: it takes them now)."""
    return max(int(get_redis().ttl(f"mfa-lock:{user.id}")), 0)


def _count_failure(user: User) -> None:
    client = get_redis()
    key = f"mfa-fail:{user.id}"
    failures = client.incr(key)
    client.expire(key, 3600)
    if failures >= current_app.config["MFA_MAX_FAILURES"]:
        locks = client.incr(f"mfa-locks:{user.id}")
        client.expire(f"mfa-locks:{user.id}", 3600)
        seconds = min(current_app.config["MFA_LOCK_SECONDS"] * 2 ** (locks - 1), 3600)
        client.set(f"mfa-lock:{user.id}", 1, ex=seconds)
        client.delete(key)
        audit.record("mfa.locked", actor_id=user.id, target=f"user:{user.id}", details={"seconds": seconds})


def _spend_step(user: User, step: int) -> bool:
    """Record `step` as used unless this or a newer one already was (atomic)."""
    result = db.session.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def confirm_enrollment(user: User, secret: str, code: str, proof: str = "") -> list[str]:
    """Turn MFA on once the user proved their app shows the right code; returns recovery codes.

    Replacing a factor already in use also needs `proof`: the password, or a current code of
    the factor being replaced (a borrowed session alone must not be able to swap it)."""
    if user.mfa_enabled and not (verify_password(user.password_hash, proof or "")
                                 or check_second_factor(user, proof or "")):
        raise MfaError(_("To replace your second factor, enter your password or a current code "
                       "from the app you use now."))
    step = mfa.matching_step(secret, code)
    if step is None:
        raise MfaError(_("That code does not match. Check the time on your phone and try the newest code."))
    codes, hashes = mfa.new_recovery_codes()
    replacing = user.mfa_enabled
    user.totp_secret = secret
    user.totp_last_step = step
    user.mfa_enabled = True
    user.recovery_code_hashes = hashes
    audit.record("mfa.replace" if replacing else "mfa.enrol", actor_id=user.id, target=f"user:{user.id}")
    db.session.commit()
    if replacing:
        security_notices.notify(user, security_notices.SECOND_FACTOR_REPLACED)
    return codes


def check_second_factor(user: User, code: str) -> bool:
    """A current, not yet used TOTP code or an unused recovery code (which is then spent).
    Always False while the account is locked after too many wrong codes."""
    if locked_for(user):
        return False
    step = mfa.matching_step(user.totp_secret, code, user.totp_last_step)
    if step is not None and _spend_step(user, step):
        ok, method = True, "totp"
    else:
        spent = mfa.match_recovery_code(user.recovery_code_hashes or [], code)
        ok, method = spent is not None, "recovery_code"
        if ok:
            user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != spent]
    if ok:
        get_redis().delete(f"mfa-fail:{user.id}")
    else:
        _count_failure(user)
    audit.record("mfa.verify" if ok else "mfa.verify_failed", actor_id=user.id,
                 details={"method": method} if ok else {})
    db.session.commit()
    if not ok:
        metrics.LOGIN_FAILURES.labels("second_factor").inc()
    return ok


def reset(user: User, by: User | None) -> None:
    """Remove the second factor (lost phone); the user enrols again at next login."""
    user.totp_secret = None
    user.totp_last_step = None
    user.mfa_enabled = False
    user.recovery_code_hashes = []
    user.end_all_sessions()
    audit.record("mfa.reset", actor_id=by.id if by else user.id, target=f"user:{user.id}")
    db.session.commit()
    security_notices.notify(user, security_notices.SECOND_FACTOR_REMOVED)


def end_all_sessions(user: User) -> None:
    user.end_all_sessions()
    audit.record("auth.logout_everywhere", actor_id=user.id)
    db.session.commit()
    sessions.end_all(user)
