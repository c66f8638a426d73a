"""Plain factories for accounts and for the rows of a care episode: screenings, consultations,
diagnoses and reports. Accounts, consultations, diagnoses and reports go through the real services,
so hashing, validation and audit run too; a screening is a finished row, as the worker leaves it."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pyotp

from app.clinical.phq9 import score_phq9
from app.extensions import db
from app.models._time import utcnow
from app.models.screening import Screening, ScreeningKind, ScreeningStatus
from app.security import mfa
from app.services import accounts, consultations, diagnoses, reports
from app.services.diagnoses import DiagnosisInput

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


def answers_for(total: int, item9: int = 0) -> list[int]:
    """Nine PHQ-9 answers (0-3) adding up to `total`, with item 9 as given."""
    answers, remaining = [0] * 9, total - item9
    answers[8] = item9
    for index in range(8):
        answers[index] = min(3, remaining)
        remaining -= answers[index]
    assert remaining == 0, total
    return answers


def screening(patient, total: int, item9: int = 0, affect: float | None = 55.0,
              days_ago: float = 0, status: ScreeningStatus = ScreeningStatus.DONE) -> Screening:
    """A photo screening `days_ago` with this PHQ-9 total, analysed (`status` DONE) or not."""
    result = score_phq9(answers_for(total, item9), 1)
    row = Screening(patient_id=patient.id, kind=ScreeningKind.PHOTO, status=status,
                    plugin_name="test", consent_version="test", phq9_answers=list(result.answers),
                    phq9_difficulty=1, phq9_total=result.total, phq9_item9=item9,
                    phq9_band=result.band, urgent=item9 > 0, affect_indicator=affect,
                    face_status="one" if status is ScreeningStatus.DONE else None,
                    created_at=utcnow() - timedelta(days=days_ago))
    db.session.add(row)
    db.session.commit()
    return row


def consultation(patient, doctor, shared: list[Screening] | None = None, message: str = "",
                 accepted: bool = True):
    """The patient's request to `doctor`, sharing `shared` (by default a new moderate screening),
    accepted by the doctor unless `accepted=False`."""
    shared = [screening(patient, 12)] if shared is None else shared
    row = consultations.request_consultation(patient, doctor.id, [s.id for s in shared], message)
    return consultations.accept(doctor, row) if accepted else row


def diagnosis(doctor, consultation, outcome: str = "confirmed", severity: str | None = None,
              plan: str = "psychotherapy", followup_interval_days: int = 14, **fields):
    """A diagnosis recorded in an accepted consultation; `severity` defaults to the band of the
    latest shared screening, which a confirmed diagnosis must name."""
    severity = severity or diagnoses.latest_band(consultation)
    return diagnoses.record(doctor, consultation, DiagnosisInput(
        outcome=outcome, severity=severity, plan=plan, followup_interval_days=followup_interval_days,
        **fields))


def report(doctor, consultation, comments: str = "", period_start: str | None = None,
           period_end: str | None = None):
    """A draft report (tests.helpers.finalise_report freezes one as the page does)."""
    return reports.create(doctor, consultation, period_start=period_start, period_end=period_end,
                          comments=comments)
