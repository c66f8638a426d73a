"""Brute-force protection that cannot be turned into a lockout (OWASP's device cookies).

A browser that logged in to an account successfully gets a signed device cookie for it.
Wrong passwords are counted in two places:

- from that device: per device cookie; when its budget is spent, that cookie stops counting
  as known (its owner falls back to the unknown-device rules below);
- from anywhere else (unknown devices): per account. When they reach the limit, the account
  takes no more attempts from unknown devices for a while, but its owner still logs in from
  a device they used before.

Unknown and existing e-mail addresses are treated alike, so the limit reveals no accounts.
Counters live in Redis; nothing here knows about requests (callers pass the cookie in).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.jobs.queue import get_redis

DEVICE_COOKIE = "moodlens_device"


@dataclass(frozen=True)
class Attempt:
    account_key: str
    device_nonce: str | None  # set when the request came from a known, unlocked device

    @property
    def known_device(self) -> bool:
        return self.device_nonce is not None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="login-device")


def _lock_seconds() -> int:
    return current_app.config["LOGIN_LOCK_MINUTES"] * 60


def _account_key(email: str) -> str:
    return "login-fail:account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def begin(email: str, user_id: int | None, device_cookie: str | None) -> Attempt:
    return Attempt(_account_key(email), _device_nonce(device_cookie, user_id))


def forgive_account(email: str) -> None:
    """Lift the unknown-device lock (the owner just proved control of the address by e-mail)."""
    get_redis().delete(_account_key(email))


def _device_nonce(cookie: str | None, user_id: int | None) -> str | None:
    if not cookie or user_id is None:
        return None
    try:
        data = _serializer().loads(cookie, max_age=current_app.config["DEVICE_COOKIE_DAYS"] * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id:
        return None
    nonce = str(data.get("n", ""))
    return None if not nonce or get_redis().exists(f"login-lock:device:{nonce}") else nonce


def refused(attempt: Attempt) -> bool:
    """True while unknown devices may not try this account (a known device is never refused)."""
    if attempt.known_device:
        return False
    failures = int(get_redis().get(attempt.account_key) or 0)
    return failures >= current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]


def record_failure(attempt: Attempt) -> None:
    client = get_redis()
    if attempt.known_device:
        key = f"login-fail:device:{attempt.device_nonce}"
        failures = client.incr(key)
        client.expire(key, _lock_seconds())
        if failures >= current_app.config["LOGIN_FAILURES_PER_DEVICE"]:
            client.set(f"login-lock:device:{attempt.device_nonce}", 1, ex=_lock_seconds())
            client.delete(key)
        return
    failures = client.incr(attempt.account_key)
    if failures == 1:  # a fixed window from the first failure: it ends, whatever happens meanwhile
        client.expire(attempt.account_key, _lock_seconds())


def record_success(attempt: Attempt, user_id: int) -> str:
    """Forget this device's failures; returns a fresh device cookie value for the browser."""
    if attempt.known_device:
        get_redis().delete(f"login-fail:device:{attempt.device_nonce}")
    return _serializer().dumps({"u": user_id, "n": secrets.token_urlsafe(16)})
