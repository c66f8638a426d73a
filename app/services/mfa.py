"""Enrolling, checking and resetting the second factor."""

from __future__ import annotations

from app.extensions import db
from app.models.user import User
from app.observability import metrics
from app.security import audit, mfa


class MfaError(ValueError):
    pass


def confirm_enrollment(user: User, secret: str, code: str) -> list[str]:
    """Turn MFA on once the user proved their app shows the right code; returns recovery codes."""
    if not mfa.verify_totp(secret, code):
        raise MfaError("That code does not match. Check the time on your phone and try the newest code.")
    codes, hashes = mfa.new_recovery_codes()
    user.totp_secret = secret
    user.mfa_enabled = True
    user.recovery_code_hashes = hashes
    audit.record("mfa.enrol", actor_id=user.id, target=f"user:{user.id}")
    db.session.commit()
    return codes


def check_second_factor(user: User, code: str) -> bool:
    """A current TOTP code or an unused recovery code (which is then spent)."""
    if mfa.verify_totp(user.totp_secret, code):
        ok, method = True, "totp"
    else:
        spent = mfa.match_recovery_code(user.recovery_code_hashes or [], code)
        ok, method = spent is not None, "recovery_code"
        if ok:
            user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != spent]
    audit.record("mfa.verify" if ok else "mfa.verify_failed", actor_id=user.id,
                 details={"method": method} if ok else {})
    db.session.commit()
    if not ok:
        metrics.LOGIN_FAILURES.labels("second_factor").inc()
    return ok


def reset(user: User, by: User | None) -> None:
    """Remove the second factor (lost phone); the user enrols again at next login."""
    user.totp_secret = None
    user.mfa_enabled = False
    user.recovery_code_hashes = []
    user.end_all_sessions()
    audit.record("mfa.reset", actor_id=by.id if by else user.id, target=f"user:{user.id}")
    db.session.commit()


def end_all_sessions(user: User) -> None:
    user.end_all_sessions()
    audit.record("auth.logout_everywhere", actor_id=user.id)
    db.session.commit()
