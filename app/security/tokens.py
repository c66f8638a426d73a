"""Signed, expiring tokens for the links MoodLens sends by e-mail.

A password-reset token names the account and a fingerprint of its current password hash:
once the password changes, the token no longer matches, so each link works once.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

RESET = "password-reset"
CONFIRM_EMAIL = "confirm-email"


class TokenError(ValueError):
    """The link is broken, expired or already used; `str(error)` is shown to the person."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"moodlens-{purpose}")


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


def make(purpose: str, payload: dict) -> str:
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, max_age_seconds: int) -> dict:
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as error:
        raise TokenError("This link has expired. Ask for a new one below.") from error
    except BadSignature as error:
        raise TokenError("This link is not valid. Ask for a new one below.") from error
    if not isinstance(payload, dict):
        raise TokenError("This link is not valid. Ask for a new one below.")
    return payload
