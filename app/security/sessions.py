"""Server-side sessions and the rules checked on every request.

The signed cookie carries only a random session id (`sid`) next to Flask-Login's user id.
What a session may do lives in Redis under `session:<sid>`: who, when it started, when it was
last seen, whether the second factor was passed, and an enrolment's pending TOTP secret. So:

- logging out deletes the record: a copy of the cookie taken before is worth nothing;
- `end_all(user)` (log out everywhere, password change or reset, second-factor reset,
  deactivation) deletes every record of the account, listed in `user-sessions:<id>`;
- idle timeout (15 minutes for clinicians by default) and absolute lifetime are measured on
  the server's timestamps, which a client cannot replay;
- doctors and admins must pass a second factor before any page other than the sign-in
  pages (patients who opted in are asked too): `second_factor_gate`;
- an account whose e-mail address is not confirmed yet cannot start a screening or contact
  a doctor: `email_gate`.
"""

from __future__ import annotations

import logging
import secrets
import time

import redis
from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.exceptions import ServiceUnavailable

from app.jobs.queue import get_redis
from app.web.htmx import is_htmx

log = logging.getLogger(__name__)

# Reachable while the second factor is still outstanding.
OPEN_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.mfa_verify", "auth.mfa_setup"}
# What an account with an unconfirmed e-mail address may not do yet.
NEEDS_CONFIRMED_EMAIL = {"screening.new", "screening.consent_page", "consultations.new_consultation"}
# Records outlive the idle timeout by this much, so a late visitor is told why they were signed out.
_GRACE_SECONDS = 3600


def _key(sid: str) -> str:
    return f"session:{sid}"


def _user_key(user_id: int) -> str:
    return f"user-sessions:{user_id}"


def _idle_seconds(user) -> int:
    minutes = current_app.config["CLINICIAN_IDLE_MINUTES" if user.is_clinician else "PATIENT_IDLE_MINUTES"]
    return minutes * 60


def start(user, second_factor_done: bool) -> None:
    """Call right after `session.clear()` and `login_user`: registers a new server-side session."""
    now = time.time()
    sid = secrets.token_urlsafe(32)
    lifetime = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    try:
        pipe = get_redis().pipeline()
        pipe.hset(_key(sid), mapping={"user": user.id, "login_at": now, "seen_at": now,
                                      "mfa": int(second_factor_done)})
        pipe.expire(_key(sid), _idle_seconds(user) + _GRACE_SECONDS)
        pipe.sadd(_user_key(user.id), sid)
        pipe.expire(_user_key(user.id), lifetime + _GRACE_SECONDS)
        pipe.execute()
    except redis.RedisError as error:
        logout_user()
        session.clear()
        raise ServiceUnavailable("Signing in is unavailable for a moment (the session store does not "
                                 "answer). Please try again shortly.") from error
    session["sid"] = sid


def _record() -> dict[str, str] | None:
    sid = session.get("sid")
    if not sid:
        return None
    raw = get_redis().hgetall(_key(sid))
    return {k.decode(): v.decode() for k, v in raw.items()} or None


def _set(**fields) -> None:
    get_redis().hset(_key(session["sid"]), mapping=fields)


def second_factor_done() -> bool:
    record = _record()
    return bool(record) and record.get("mfa") == "1"


def mark_second_factor_done() -> None:
    _set(mfa=1)


def pending_secret() -> str | None:
    """The TOTP secret being enrolled in this session (kept here, never in the cookie)."""
    return (_record() or {}).get("mfa_pending")


def set_pending_secret(secret: str | None) -> None:
    if secret is None:
        get_redis().hdel(_key(session["sid"]), "mfa_pending")
    else:
        _set(mfa_pending=secret)


def end_current() -> None:
    """Delete this browser's server-side session (logout)."""
    sid = session.get("sid")
    if sid:
        try:
            get_redis().delete(_key(sid))
        except redis.RedisError:
            log.warning("could not delete session record", exc_info=True)


def end_all(user) -> None:
    """Delete every server-side session of `user` (the caller also rotates `session_token`)."""
    client = get_redis()
    sids = [sid.decode() for sid in client.smembers(_user_key(user.id))]
    pipe = client.pipeline()
    for sid in sids:
        pipe.delete(_key(sid))
    pipe.delete(_user_key(user.id))
    pipe.execute()


def needs_second_factor(user) -> bool:
    required = user.is_clinician and current_app.config["MFA_REQUIRED_FOR_CLINICIANS"]
    return required or user.mfa_enabled


def _redirect(endpoint: str):
    target = url_for(endpoint)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def second_factor_gate(user, record: dict[str, str]):
    """The one place deciding whether this request must first pass (or enrol) a second factor.
    Other sign-in methods (e.g. single sign-on) start sessions with `start()` and meet this gate."""
    if record.get("mfa") == "1" or not needs_second_factor(user) or request.endpoint in OPEN_ENDPOINTS:
        return None
    return _redirect("auth.mfa_verify" if user.mfa_enabled else "auth.mfa_setup")


def email_gate(user):
    if user.email_verified_at is None and request.endpoint in NEEDS_CONFIRMED_EMAIL:
        flash("Please confirm your e-mail address first: follow the link we sent you.", "info")
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
    if needs_second_factor(current_user):
        logout_user()
        session.clear()
        raise ServiceUnavailable("Signing in is unavailable for a moment (the session store does not "
                                 "answer). Please try again shortly.")
    return email_gate(current_user)


def register(app: Flask) -> None:
    @app.before_request
    def enforce_session_rules():
        # Only sessions that came from the log-in form (a cookie with a user id) are checked here.
        if request.endpoint == "static" or "_user_id" not in session or not current_user.is_authenticated:
            return None
        try:
            record = _record()
        except redis.RedisError:
            return _store_unreachable()
        if record is None or record.get("user") != str(current_user.id):
            return _end("Your session has ended. Please log in again.")
        now = time.time()
        too_idle = now - float(record["seen_at"]) > _idle_seconds(current_user)
        too_old = now - float(record["login_at"]) > app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        if too_idle or too_old:
            end_current()
            return _end("You were signed out after a period of inactivity. Please log in again."
                        if too_idle else "Your session has expired. Please log in again.")
        get_redis().pipeline().hset(_key(session["sid"]), "seen_at", now) \
            .expire(_key(session["sid"]), _idle_seconds(current_user) + _GRACE_SECONDS).execute()
        return second_factor_gate(current_user, record) or email_gate(current_user)
