"""TOTP second factor (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno

ISSUER = "MoodLens"
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (allowed by the CSP's img-src, no inline script).

    `svg_data_uri` keeps the SVG namespace; `svg_inline` drops it on purpose (it is meant for
    inline <svg>), and an <img> then decodes to nothing."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def matching_step(secret: str | None, code: str, after_step: int | None = None) -> int | None:
    """The time step (30 s counter) whose code this is, if it is current and newer than
    `after_step`: a code once accepted, or any older one, is refused (codes are single-use)."""
    code = "".join(ch for ch in code if ch.isdigit())
    if not secret or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    # One step of clock drift either way, as authenticator apps expect.
    for step in (now_step - 1, now_step, now_step + 1):
        if (after_step is None or step > after_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _hash(code: str) -> str:
    # Recovery codes carry 60 random bits; a fast hash is enough for them (unlike passwords).
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def new_recovery_codes() -> tuple[list[str], list[str]]:
    """(codes to show the user once, hashes to store)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes, [_hash(code) for code in codes]


def match_recovery_code(hashes: list[str], code: str) -> str | None:
    """The stored hash this code matches, if any (the caller removes it: codes are single-use)."""
    candidate = _hash(code)
    for stored in hashes:
        if hmac.compare_digest(stored, candidate):
            return stored
    return None
