"""Account administration: search, deactivate and reactivate, reset a second factor.

A deactivated user's sessions end at their next request: `User.is_active` is False, so
Flask-Login no longer treats their session as authenticated.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from app.extensions import db
from app.models.user import Role, User
from app.security import audit
from app.services import live, security_notices
from app.services.errors import ServiceError

PER_PAGE = 25


class UserAdminError(ServiceError):
    """An account change that cannot be made."""

    status = 409


class UnknownUserError(UserAdminError):
    status = 404


def search(email: str | None = None, role: Role | None = None, active: bool | None = None,
           page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    if email:
        literal = email.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        query = query.where(func.lower(User.email).like(pattern, escape="\\"))
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise UnknownUserError(_("There is no account with that id."))
    return user


def deactivate(user_id: int, admin: User) -> User:
    user = get_user(user_id)
    if user.id == admin.id:
        raise UserAdminError(_("You cannot deactivate your own account."))
    if not user.active:
        raise UserAdminError(_("%(email)s is already deactivated.", email=user.email))
    if user.role is Role.ADMIN:
        active_admins = db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active.is_(True)))
        if active_admins <= 1:
            raise UserAdminError(_("The last active admin cannot be deactivated."))
    user.active = False
    user.end_all_sessions()
    audit.record("user.deactivate", actor_id=admin.id, target=f"user:{user.id}",
                 patient_id=user.id if user.role is Role.PATIENT else None)
    db.session.commit()
    live.access_changed(user.id)  # their open streams end
    return user


def reactivate(user_id: int, admin: User) -> User:
    user = get_user(user_id)
    if user.active:
        raise UserAdminError(_("%(email)s is already active.", email=user.email))
    user.active = True
    audit.record("user.reactivate", actor_id=admin.id, target=f"user:{user.id}",
                 patient_id=user.id if user.role is Role.PATIENT else None)
    db.session.commit()
    return user


def reset_second_factor(user_id: int, admin: User) -> User:
    """For a clinician who lost their authenticator: remove the second factor and end their
    sessions; at their next log-in they enrol a new one before seeing any page."""
    user = get_user(user_id)
    if user.id == admin.id:
        raise UserAdminError(_("Another admin must reset your own second factor."))
    if not user.mfa_enabled and not user.totp_secret:
        raise UserAdminError(_("%(email)s has no second factor to reset.", email=user.email))
    user.totp_secret = None
    user.mfa_enabled = False
    user.recovery_code_hashes = []
    user.end_all_sessions()
    audit.record("user.mfa_reset", actor_id=admin.id, target=f"user:{user.id}")
    db.session.commit()
    security_notices.notify(user, security_notices.SECOND_FACTOR_REMOVED)
    return user
