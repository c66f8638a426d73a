"""Diagnosis confirmation: versioned (a change is a new row), severity from the PHQ-9 bands
with a doctor's override and its reason, a treatment plan and a follow-up interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clinical.phq9 import BANDS, BANDS_BY_KEY, band_for
from app.extensions import db
from app.i18n.marker import N_
from app.models._time import utcnow
from app.models.care import Consultation, ConsultationStatus, Diagnosis, DiagnosisOutcome, TreatmentPlan
from app.models.user import User
from app.security import audit
from app.services import followups, links, notifications
from app.services.consultations import CareError, shared_screenings

NOTES_MAX = 5000
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=10)

# Lazy: each page (and each PDF) shows them in its reader's language.
PLAN_LABELS = {
    TreatmentPlan.WATCHFUL_WAITING: _l("Watchful waiting"),
    TreatmentPlan.PSYCHOTHERAPY: _l("Psychotherapy"),
    TreatmentPlan.PHARMACOTHERAPY: _l("Pharmacotherapy"),
    TreatmentPlan.COMBINED: _l("Combined psychotherapy and pharmacotherapy"),
    TreatmentPlan.REFERRAL: _l("Referral to a mental-health specialist"),
}
# What each plan means, in plain words for the patient.
PLAN_PLAIN = {
    TreatmentPlan.WATCHFUL_WAITING: _l("Your doctor will keep an eye on how you feel with regular check-ins, "
                                    "without starting a treatment for now."),
    TreatmentPlan.PSYCHOTHERAPY: _l("Your doctor recommends talking therapy with a trained professional."),
    TreatmentPlan.PHARMACOTHERAPY: _l("Your doctor recommends medication, which they will discuss with you."),
    TreatmentPlan.COMBINED: _l("Your doctor recommends both talking therapy and medication."),
    TreatmentPlan.REFERRAL: _l("Your doctor will refer you to a mental-health specialist."),
}
SEVERITY_KEYS = [band.key for band in BANDS]


def severity_label(key: str | None) -> str:
    band = BANDS_BY_KEY.get(key or "")
    return _(band.label) if band else "—"


def recommended_action(key: str | None) -> str | None:
    band = BANDS_BY_KEY.get(key or "")
    return _(band.proposed_action) if band else None


def latest_band(consultation: Consultation) -> str | None:
    """The band of the most recent shared screening: the doctor's starting point."""
    screenings = shared_screenings(consultation)
    return band_for(screenings[-1].phq9_total).key if screenings else None


@dataclass
class DiagnosisInput:
    outcome: str
    severity: str | None = None
    override_reason: str = ""
    notes: str = ""
    plan: str | None = None
    plan_details: str = ""
    followup_interval_days: int | None = None


def validate(data: DiagnosisInput, band: str | None) -> dict[str, str]:
    """Field → message for everything wrong with `data`; empty when it can be recorded."""
    config = current_app.config
    low, high = config["FOLLOWUP_MIN_DAYS"], config["FOLLOWUP_MAX_DAYS"]
    errors: dict[str, str] = {}
    if data.outcome not in {o.value for o in DiagnosisOutcome}:
        errors["outcome"] = _("Choose whether depression is confirmed or not.")
    if len(data.notes or "") > NOTES_MAX:
        errors["notes"] = _("Notes may be at most %(count)d characters.", count=NOTES_MAX)
    if len(data.plan_details or "") > NOTES_MAX:
        errors["plan_details"] = _("Plan details may be at most %(count)d characters.", count=NOTES_MAX)
    if data.outcome != DiagnosisOutcome.CONFIRMED.value:
        return errors
    if data.severity not in SEVERITY_KEYS:
        errors["severity"] = _("Choose a severity.")
    elif band is not None and data.severity != band and not (data.override_reason or "").strip():
        errors["override_reason"] = _("The severity differs from the PHQ-9 band (%(band)s): give the reason "
                                      "for the override.", band=severity_label(band))
    if data.plan not in {p.value for p in TreatmentPlan}:
        errors["plan"] = _("Choose a treatment plan.")
    interval = data.followup_interval_days
    if interval is None or not low <= interval <= high:
        errors["followup_interval_days"] = _(
            "The follow-up interval must be between %(low)d and %(high)d days.", low=low, high=high)
    return errors


def record(doctor: User, consultation: Consultation, data: DiagnosisInput) -> Diagnosis:
    if consultation.status is not ConsultationStatus.ACCEPTED:
        raise CareError(_("A diagnosis can be recorded only in an accepted, open consultation."), 409)
    band = latest_band(consultation)
    errors = validate(data, band)
    if errors:
        raise CareError(" ".join(errors.values()), 400)
    confirmed = data.outcome == DiagnosisOutcome.CONFIRMED.value
    fields = dict(
        outcome=DiagnosisOutcome(data.outcome),
        band_from_phq9=band,
        severity=data.severity if confirmed else None,
        override_reason=(data.override_reason or "").strip() or None if confirmed and data.severity != band
        else None,
        notes=(data.notes or "").strip(),
        plan=TreatmentPlan(data.plan) if confirmed else None,
        plan_details=(data.plan_details or "").strip() if confirmed else "",
        followup_interval_days=data.followup_interval_days if confirmed else None,
    )
    current = consultation.current_diagnosis
    if (current is not None and current.author_id == doctor.id
            and utcnow() - current.created_at < DOUBLE_SUBMIT_WINDOW
            and all(getattr(current, key) == value for key, value in fields.items())):
        return current  # the same form submitted twice
    version = (db.session.scalar(select(func.max(Diagnosis.version)).where(
        Diagnosis.consultation_id == consultation.id)) or 0) + 1
    diagnosis = Diagnosis(consultation_id=consultation.id, version=version, author_id=doctor.id, **fields)
    db.session.add(diagnosis)
    audit.record("diagnosis.record", actor_id=doctor.id, patient_id=consultation.patient_id,
                 target=f"consultation:{consultation.id}",
                 details={"version": version})
    notifications.notify(consultation.patient_id, "diagnosis.recorded",
                         N_("Your doctor updated your care plan"), links.consultation_path(consultation.id))
    try:
        db.session.commit()
    except IntegrityError:  # two submits raced for the same version number
        db.session.rollback()
        raise CareError(_("This diagnosis was just changed by another submission; reload the page."),
                        409) from None
    if confirmed:
        followups.schedule_reminders(consultation)
    return diagnosis


def reschedule_followup(doctor: User, consultation: Consultation, interval_days: int) -> Diagnosis:
    """Set the next follow-up `interval_days` from now: a new version of the current confirmed
    diagnosis with only the interval changed (the interval is part of the plan, and the due date
    counts from the latest version), so reminders and the patient's tasks follow at once."""
    low = current_app.config["FOLLOWUP_MIN_DAYS"]
    high = current_app.config["FOLLOWUP_MAX_DAYS"]
    if consultation.status is not ConsultationStatus.ACCEPTED:
        raise CareError(_("A follow-up can be set only in an accepted, open consultation."), 409)
    current = consultation.current_diagnosis
    if current is None or not current.confirmed:
        raise CareError(_("Confirm a diagnosis first: the follow-up interval is part of the treatment plan."),
                        409)
    if not low <= interval_days <= high:
        raise CareError(_("The follow-up interval must be between %(low)d and %(high)d days.",
                          low=low, high=high))
    version = (db.session.scalar(select(func.max(Diagnosis.version)).where(
        Diagnosis.consultation_id == consultation.id)) or 0) + 1
    diagnosis = Diagnosis(
        consultation_id=consultation.id, version=version, author_id=doctor.id, outcome=current.outcome,
        band_from_phq9=current.band_from_phq9, severity=current.severity,
        override_reason=current.override_reason, notes=current.notes, plan=current.plan,
        plan_details=current.plan_details, followup_interval_days=interval_days)
    db.session.add(diagnosis)
    audit.record("diagnosis.record", actor_id=doctor.id, patient_id=consultation.patient_id,
                 target=f"consultation:{consultation.id}",
                 details={"version": version, "outcome": current.outcome.value, "followup_only": True})
    notifications.notify(consultation.patient_id, "followup.rescheduled",
                         N_("Your doctor set the date of your next follow-up screening"),
                         links.consultation_path(consultation.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise CareError(_("This plan was just changed by another submission; reload the page."),
                        409) from None
    followups.schedule_reminders(consultation)
    return diagnosis
