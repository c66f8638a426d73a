"""Who may see what. Routes ask this module; they never re-implement its rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models.user import Role


def role_required(*roles: Role) -> Callable:
    """Log-in required, then one of `roles`; anything else is a 403 with a clear message."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, description="This page is not available for your account type.")
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the access-matrix test
        return wrapped

    return decorator


def can_see_patients(user) -> bool:
    """Only verified doctors ever see patient data; pending, rejected or revoked ones never do."""
    return user.is_authenticated and user.is_verified_doctor
