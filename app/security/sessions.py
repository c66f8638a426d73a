"""Server-side sessions: what a session may do, kept in Redis.

The signed cookie carries only a random session id (`sid`) next to Flask-Login's user id.
What a session may do lives in Redis under `session:<sid>`: who, when it started, when it was
last seen, whether the second factor was passed, and an enrolment's pending TOTP secret. So:

- logging out deletes the record: a copy of the cookie taken before is worth nothing;
- `end_all(user)` (log out everywhere, password change or reset, second-factor reset,
  deactivation) deletes every record of the account, listed in `user-sessions:<id>`;
- idle timeout (15 minutes for clinicians by default) and absolute lifetime are measured on
  the server's timestamps, which a client cannot replay; only activity moves `seen_at`, never a
  page's background checks (live streams, polls), so a page left open still times out;
- the rules checked on every request against this record (idle and absolute lifetime, the
  second factor, a confirmed e-mail address) are in `app/web/session_rules.py`.
"""

from __future__ import annotations

import logging
import secrets
import time

import redis
from flask import current_app, session
from flask_login import logout_user
from werkzeug.exceptions import ServiceUnavailable

from app.jobs.queue import get_redis

log = logging.getLogger(__name__)

# Records outlive the idle timeout by this much, so a late visitor is told why they were signed out.
GRACE_SECONDS = 3600


def _key(sid: str) -> str:
    return f"session:{sid}"


def _user_key(user_id: int) -> str:
    return f"user-sessions:{user_id}"


def idle_seconds(user) -> int:
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
        pipe.expire(_key(sid), idle_seconds(user) + GRACE_SECONDS)
        pipe.sadd(_user_key(user.id), sid)
        pipe.expire(_user_key(user.id), lifetime + GRACE_SECONDS)
        pipe.execute()
    except redis.RedisError as error:
        logout_user()
        session.clear()
        raise ServiceUnavailable("Signing in is unavailable for a moment (the session store does not "
                                 "answer). Please try again shortly.") from error
    session["sid"] = sid


def current_record() -> dict[str, str] | None:
    """This browser's session record, or None (no session id, or the record is gone)."""
    sid = session.get("sid")
    if not sid:
        return None
    raw = get_redis().hgetall(_key(sid))
    return {k.decode(): v.decode() for k, v in raw.items()} or None


def current_sid() -> str | None:
    return session.get("sid")


def over(record: dict[str, str], user, now: float) -> str | None:
    """Why the session `record` of `user` is over at `now`: "idle", "expired", or None while open."""
    if idle_seconds_left(record, user, now) < 0:
        return "idle"
    if now - float(record["login_at"]) > current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600:
        return "expired"
    return None


def idle_seconds_left(record: dict[str, str], user, now: float) -> float:
    """How long the session may stay without activity before it ends (negative: it has)."""
    return idle_seconds(user) - (now - float(record["seen_at"]))


def is_open(sid: str | None, user) -> bool:
    """Whether the session `sid` is still `user`'s and open (not logged out, ended, idle or too
    old): for work that outlives its request, such as a live stream."""
    if not sid:
        return False
    raw = get_redis().hgetall(_key(sid))
    record = {k.decode(): v.decode() for k, v in raw.items()}
    return record.get("user") == str(user.id) and over(record, user, time.time()) is None


def _set(**fields) -> None:
    get_redis().hset(_key(session["sid"]), mapping=fields)


def second_factor_done() -> bool:
    record = current_record()
    return bool(record) and record.get("mfa") == "1"


def mark_second_factor_done() -> None:
    _set(mfa=1)


def pending_secret() -> str | None:
    """The TOTP secret being enrolled in this session (kept here, never in the cookie)."""
    return (current_record() or {}).get("mfa_pending")


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


def touch(user, now: float) -> None:
    """Record activity now: the idle clock restarts and the record lives on."""
    key = _key(session["sid"])
    get_redis().pipeline().hset(key, "seen_at", now).expire(key, idle_seconds(user) + GRACE_SECONDS).execute()
