"""The audit trail records who did what to which record, never a clinical value: an admin reading
/admin/audit (page, filters, action list) cannot tell a patient's band, urgency or diagnosis."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.care import Consultation
from app.services import consent, consultations, diagnoses
from tests import factories, samples
from tests.helpers import login, submit

SEVERE_WITH_SELF_HARM = [3, 3, 3, 3, 3, 3, 2, 2, 2]
CLINICAL_WORDS = ("phq9", "band", "urgent", "severe", "moderate", "minimal", "mild", "outcome",
                  "confirmed", "rejected", "severity", "plan", "item9")


def _care_loop(app, doctor, outcome: str) -> None:
    patient = factories.patient()
    consent.grant(patient)
    client = app.test_client()
    login(client, patient)
    assert submit(client, samples.astronaut_jpeg(), answers=SEVERE_WITH_SELF_HARM).status_code == 303
    screening_id = db.session.scalars(select(AuditEvent.target).where(
        AuditEvent.action == "screening.submit", AuditEvent.actor_id == patient.id)).one().split(":")[1]
    consultation = consultations.request_consultation(patient, doctor.id, [int(screening_id)], "help")
    assert consultation.urgent  # the clinical table keeps the flag; the audit must not
    consultations.accept(doctor, consultation)
    diagnoses.record(doctor, db.session.get(Consultation, consultation.id), diagnoses.DiagnosisInput(
        outcome=outcome, severity="severe" if outcome == "confirmed" else None,
        notes="not for admins", plan="psychotherapy" if outcome == "confirmed" else None,
        followup_interval_days=14))
    consultations.close(doctor, consultation)


def test_admin_audit_shows_no_band_urgency_or_diagnosis(app, admin):
    doctor = factories.doctor()
    _care_loop(app, doctor, "confirmed")
    _care_loop(app, doctor, "rejected")

    for event in db.session.scalars(select(AuditEvent)):
        flat = (str(event.details) + " " + event.action).lower()
        assert not [word for word in CLINICAL_WORDS if word in flat], (event.action, event.details)

    client = app.test_client()
    login(client, admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "diagnosis.record" in html and "screening.submit" in html
    details = " ".join(re.findall(r'<td class="details">(.*?)</td>', html, re.S)).lower()
    actions = " ".join(re.findall(r"<option[^>]*>(.*?)</option>", html)).lower()
    for word in CLINICAL_WORDS:
        assert word not in details and word not in actions, word


def _trail() -> list[tuple]:
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    return [(event.action, sorted(event.details)) for event in events]


def test_confirmed_and_rejected_diagnoses_leave_the_same_trail(app):
    doctor = factories.doctor()
    _care_loop(app, doctor, "confirmed")
    first = _trail()
    _care_loop(app, doctor, "rejected")
    second = _trail()[len(first):]
    strip = [pair for pair in first if not pair[0].startswith(("account.", "doctor.", "auth.", "mfa."))]
    assert [pair for pair in second if not pair[0].startswith(("account.", "auth."))] == strip
