"""Research consent: optional, separate from screening consent, withdrawable at any time.

Only patients with an open research consent contribute to the local validation study and the
research export; a withdrawal takes effect at the next evidence refresh. Audited without any
clinical value.
"""

from __future__ import annotations

from app.extensions import db
from app.models._time import utcnow
from app.models.user import ConsentRecord, User
from app.security import audit

RESEARCH_CONSENT = "research"
RESEARCH_CONSENT_VERSION = "research-2026-11"


def has_research_consent(patient: User) -> bool:
    profile = patient.patient_profile
    return profile is not None and profile.active_consent(RESEARCH_CONSENT) is not None


def grant(patient: User) -> ConsentRecord:
    existing = patient.patient_profile.active_consent(RESEARCH_CONSENT)
    if existing is not None:
        return existing
    record = ConsentRecord(kind=RESEARCH_CONSENT, text_version=RESEARCH_CONSENT_VERSION, granted_at=utcnow())
    patient.patient_profile.consents.append(record)
    db.session.flush()
    audit.record("consent.grant", actor_id=patient.id, patient_id=patient.id, target=f"consent:{record.id}",
                 details={"kind": RESEARCH_CONSENT, "version": record.text_version})
    db.session.commit()
    return record


def withdraw(patient: User) -> bool:
    """Close the patient's open research consent. False if there was none."""
    open_records = [r for r in patient.patient_profile.consents
                    if r.kind == RESEARCH_CONSENT and r.withdrawn_at is None]
    if not open_records:
        return False
    now = utcnow()
    for record in open_records:
        record.withdrawn_at = now
    audit.record("consent.withdraw", actor_id=patient.id, patient_id=patient.id,
                 details={"kind": RESEARCH_CONSENT, "records": [r.id for r in open_records]})
    db.session.commit()
    return True
