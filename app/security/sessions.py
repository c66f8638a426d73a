"""Session rules checked on every request.

- Idle timeout (15 minutes for clinicians by default) and an absolute lifetime.
- Doctors and admins must pass a second factor before any page other than the sign-in pages;
  one who has not enrolled yet is sent to enrolment. Patients who opted in are asked too.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from app.blueprints.htmx import is_htmx

# Reachable while the second factor is still outstanding.
OPEN_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.mfa_verify", "auth.mfa_setup"}


def start(user, second_factor_done: bool) -> None:
    """Call right after login_user: stamps the session for the rules below."""
    now = time.time()
    session["login_at"] = now
    session["seen_at"] = now
    session["mfa_ok"] = second_factor_done


def needs_second_factor(user) -> bool:
    required = user.is_clinician and current_app.config["MFA_REQUIRED_FOR_CLINICIANS"]
    return required or user.mfa_enabled


def _redirect(endpoint: str):
    target = url_for(endpoint)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def register(app: Flask) -> None:
    @app.before_request
    def enforce_session_rules():
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = time.time()
        idle_minutes = app.config["CLINICIAN_IDLE_MINUTES" if current_user.is_clinician
                                  else "PATIENT_IDLE_MINUTES"]
        too_idle = now - session.get("seen_at", 0) > idle_minutes * 60
        too_old = now - session.get("login_at", 0) > app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        if too_idle or too_old:
            logout_user()
            session.clear()
            flash("You were signed out after a period of inactivity. Please log in again."
                  if too_idle else "Your session has expired. Please log in again.", "info")
            return _redirect("auth.login")
        session["seen_at"] = now
        if not session.get("mfa_ok") and needs_second_factor(current_user) \
                and request.endpoint not in OPEN_ENDPOINTS:
            return _redirect("auth.mfa_verify" if current_user.mfa_enabled else "auth.mfa_setup")
        return None
