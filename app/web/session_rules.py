"""The session rules checked on every request, against the record `app.security.sessions` keeps.

- a session whose record is gone (logged out, ended everywhere) or idle or too old ends;
- doctors and admins must pass a second factor before any page other than the sign-in
  pages (patients who opted in are asked too): `second_factor_gate`;
- an account whose e-mail address is not confirmed yet cannot start a screening or contact
  a doctor: `email_gate`.
"""

from __future__ import annotations

import logging
import time

import redis
from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.exceptions import ServiceUnavailable

from app.security import sessions
from app.web.htmx import is_htmx

log = logging.getLogger(__name__)

# Reachable while the second factor is still outstanding.
OPEN_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.mfa_verify", "auth.mfa_setup",
                  "preferences.language", "preferences.language_link"}
# What an account with an unconfirmed e-mail address may not do yet.
NEEDS_CONFIRMED_EMAIL = {"screening.new", "screening.consent_page", "consultations.new_consultation"}


def _redirect(endpoint: str):
    target = url_for(endpoint)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def second_factor_gate(user, record: dict[str, str]):
    """The one place deciding whether this request must first pass (or enrol) a second factor.
    Other sign-in methods (e.g. single sign-on) start sessions with `start()` and meet this gate."""
    if record.get("mfa") == "1" or request.endpoint in OPEN_ENDPOINTS:
        return None
    if not sessions.needs_second_factor(user):
        return None
    return _redirect("auth.mfa_verify" if user.mfa_enabled else "auth.mfa_setup")


def email_gate(user):
    if user.email_verified_at is None and request.endpoint in NEEDS_CONFIRMED_EMAIL:
        flash(_("Please confirm your e-mail address first: follow the link we sent you."), "info")
        return _redirect("auth.confirm_email_pending")
    return None


def _end(message: str):
    logout_user()
    session.clear()
    flash(message, "info")
    return _redirect("auth.login")


def _store_unreachable():
    """Redis is down: the session cannot be checked. Clinicians and anyone with a second factor
    are signed out (their sessions hold the most); a patient without one keeps the session the
    cookie and its rotating session token vouch for, so an upload in progress is not lost while
    the queue is down. Logout, idle and lifetime rules apply again as soon as Redis answers."""
    log.warning("session store unreachable", exc_info=True)
    if sessions.needs_second_factor(current_user):
        logout_user()
        session.clear()
        raise ServiceUnavailable(_("Signing in is unavailable for a moment (the session store does not "
                                 "answer). Please try again shortly."))
    return email_gate(current_user)


def register(app: Flask) -> None:
    @app.before_request
    def enforce_session_rules():
        # Only sessions that came from the log-in form (a cookie with a user id) are checked here.
        if request.endpoint == "static" or "_user_id" not in session or not current_user.is_authenticated:
            return None
        try:
            record = sessions.current_record()
        except redis.RedisError:
            return _store_unreachable()
        if record is None or record.get("user") != str(current_user.id):
            return _end(_("Your session has ended. Please log in again."))
        now = time.time()
        too_idle = now - float(record["seen_at"]) > sessions.idle_seconds(current_user)
        too_old = now - float(record["login_at"]) > app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        if too_idle or too_old:
            sessions.end_current()
            return _end(_("You were signed out after a period of inactivity. Please log in again.")
                        if too_idle else _("Your session has expired. Please log in again."))
        sessions.touch(current_user, now)
        return second_factor_gate(current_user, record) or email_gate(current_user)
