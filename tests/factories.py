"""Plain factories for accounts (through the real services, so hashing and audit run too)."""

from __future__ import annotations

import itertools
import time

import pyotp

from app.extensions import db
from app.security import mfa
from app.services import accounts

PASSWORD = "a long enough passphrase"
_sequence = itertools.count(1)


def patient(email: str | None = None, name: str = "Pat Patient", verified: bool = True):
    """A patient whose e-mail address is confirmed (`verified=False`: one who has not yet)."""
    return accounts.register_patient(email or f"patient{next(_sequence)}@example.org", PASSWORD, name, None,
                                     verified=verified)


def with_second_factor(user):
    """Enrol TOTP as a clinician would; tests log in with `totp_code(user)`."""
    user.totp_secret = mfa.new_secret()
    user.mfa_enabled = True
    db.session.commit()
    return user


def totp_code(user) -> str:
    """A code the server will take: codes are single-use, so after the current one was spent
    this is the next time step's (accepted for clock drift), as a phone would show 30 s later."""
    db.session.refresh(user)
    totp = pyotp.TOTP(user.totp_secret)
    step = int(time.time()) // totp.interval
    if user.totp_last_step is not None and user.totp_last_step >= step:
        step = user.totp_last_step + 1
    return totp.generate_otp(step)


def doctor(email: str | None = None, verified: bool = True, name: str = "Dana Doctor",
           specialty: str = "Psychiatry", languages: str = "en", enrolled: bool = True,
           email_verified: bool = True):
    user = accounts.register_doctor(email or f"doctor{next(_sequence)}@example.org", PASSWORD, name,
                                    f"LIC-{next(_sequence):05d}", specialty, languages,
                                    verified=email_verified)
    if verified:
        accounts.verify_doctor(user.email)
    return with_second_factor(user) if enrolled else user


def admin(email: str | None = None, enrolled: bool = True):
    user = accounts.create_admin(email or f"admin{next(_sequence)}@example.org", PASSWORD)
    return with_second_factor(user) if enrolled else user
