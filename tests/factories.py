"""Plain factories for accounts (through the real services, so hashing and audit run too)."""

from __future__ import annotations

import itertools

from app.services import accounts

PASSWORD = "a long enough passphrase"
_sequence = itertools.count(1)


def patient(email: str | None = None, name: str = "Pat Patient"):
    return accounts.register_patient(email or f"patient{next(_sequence)}@example.org", PASSWORD, name, None)


def doctor(email: str | None = None, verified: bool = True, name: str = "Dana Doctor",
           specialty: str = "Psychiatry", languages: str = "en"):
    user = accounts.register_doctor(email or f"doctor{next(_sequence)}@example.org", PASSWORD, name,
                                    f"LIC-{next(_sequence):05d}", specialty, languages)
    if verified:
        accounts.verify_doctor(user.email)
    return user


def admin(email: str | None = None):
    return accounts.create_admin(email or f"admin{next(_sequence)}@example.org", PASSWORD)
