"""The session rules checked on every request, against the record `app.security.sessions` keeps.

- a session whose record is gone (logged out, ended everywhere) or idle or too old ends;
- only activity restarts the idle clock. A page's background requests (live streams, htmx
  polls, the idle warning's checks) are checks: refused once the session is over, but they do
  not keep it alive, so a page left open on a shared computer still times out. A view marks
  itself with `background`; htmx sends `BACKGROUND_HEADER` from elements marked
  `data-background` (static/js/app.js);
- doctors and admins must pass a second factor before any page other than the sign-in
  pages (patients who opted in are asked too): `second_factor_gate`;
- an account whose e-mail address is not confirmed yet cannot start a screening or contact
  a doctor: `email_gate`.
"""

from __future__ import annotations

import logging
import time

import redis
from flask import (
    Flask,
    Response,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.exceptions import ServiceUnavailable

from app.security import sessions
from app.web.htmx import is_htmx

log = logging.getLogger(__name__)

# Reachable while the second factor is still outstanding.
OPEN_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.mfa_verify", "auth.mfa_setup",
                  "auth.session_clock", "preferences.language", "preferences.language_link"}
# What an account with an unconfirmed e-mail address may not do yet.
NEEDS_CONFIRMED_EMAIL = {"screening.new", "screening.consent_page", "consultations.new_consultation"}


BACKGROUND_HEADER = "X-Background-Check"


def background(view):
    """Marks a view whose requests are all background checks (a live stream): never activity."""
    view.background_check = True
    return view


def is_background() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    return request.headers.get(BACKGROUND_HEADER) == "1" or getattr(view, "background_check", False)


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
    @app.context_processor
    def idle_limit():
        # A page of a signed-in session warns before the idle sign-out (base.html, static/js/idle.js);
        # a bearer token's request has no session to time out.
        signed_in = has_request_context() and "sid" in session and current_user.is_authenticated
        return {"session_idle_seconds": sessions.idle_seconds(current_user) if signed_in else None}

    @app.before_request
    def enforce_session_rules():
        # Only sessions that came from the log-in form (a cookie with a user id) are checked here.
        if request.endpoint == "static" or "_user_id" not in session or not current_user.is_authenticated:
            return None
        try:
            record = sessions.current_record()
        except redis.RedisError:
            return _store_unreachable()
        now = time.time()
        ours = record is not None and record.get("user") == str(current_user.id)
        why_over = sessions.over(record, current_user, now) if ours else "ended"
        background_check = is_background()
        if why_over and background_check and not is_htmx():
            # A stream or a script's check cannot show a page: refuse it and leave the session
            # for the next page (or htmx poll) to end and explain, so the message is not lost.
            return Response(status=401)
        if why_over == "ended":
            return _end(_("Your session has ended. Please log in again."))
        if why_over:
            sessions.end_current()
            return _end(_("You were signed out after a period of inactivity. Please log in again.")
                        if why_over == "idle" else _("Your session has expired. Please log in again."))
        if not background_check:
            sessions.touch(current_user, now)
        return second_factor_gate(current_user, record) or email_gate(current_user)
