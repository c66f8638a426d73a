"""Consent to screening: granted per consent-text version, withdrawn (never deleted)."""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.models._time import utcnow
from app.models.user import ConsentRecord, User
from app.security import audit

SCREENING_CONSENT = "screening"


def current_version() -> str:
    return current_app.config["CONSENT_VERSION"]


def active_screening_consent(patient: User) -> ConsentRecord | None:
    """The patient's consent to the *current* consent text, if granted and not withdrawn."""
    profile = patient.patient_profile
    record = profile.active_consent(SCREENING_CONSENT) if profile else None
    return record if record is not None and record.text_version == current_version() else None


def grant(patient: User) -> ConsentRecord:
    existing = active_screening_consent(patient)
    if existing is not None:
        return existing
    record = ConsentRecord(kind=SCREENING_CONSENT, text_version=current_version(), granted_at=utcnow())
    patient.patient_profile.consents.append(record)
    db.session.flush()
    audit.record(
        "consent.grant",
        actor_id=patient.id,
        patient_id=patient.id,
        target=f"consent:{record.id}",
        details={"kind": SCREENING_CONSENT, "version": record.text_version},
    )
    db.session.commit()
    return record


def withdraw(patient: User) -> bool:
    """Close every open screening consent of the patient. False if there was none."""
    profile = patient.patient_profile
    open_records = [r for r in profile.consents if r.kind == SCREENING_CONSENT and r.withdrawn_at is None]
    if not open_records:
        return False
    now = utcnow()
    for record in open_records:
        record.withdrawn_at = now
    audit.record(
        "consent.withdraw",
        actor_id=patient.id,
        patient_id=patient.id,
        details={"kind": SCREENING_CONSENT, "records": [r.id for r in open_records]},
    )
    db.session.commit()
    return True
