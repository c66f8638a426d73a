"""One consultation's episode: its outcome on PHQ-9 as of a date (the consultation page, the
report, the patient's history) and the treat-to-target prompts its treating doctor sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.clinical import outcomes
from app.clinical.outcomes import Measurement, Outcome
from app.extensions import db
from app.models._time import utcnow
from app.models.care import Consultation, ConsultationStatus
from app.models.care_prompts import PromptDismissal
from app.models.user import User
from app.security import audit
from app.services.consultations import CareError, shared_screenings

REASON_MAX = 1000


@dataclass(frozen=True)
class Plan:
    """Where a consultation's treatment plan stands, from its diagnosis versions."""

    treatment_start: datetime | None  # the first confirmed diagnosis, while the current one is confirmed
    current_at: datetime | None
    interval_days: int | None


NO_PLAN = Plan(None, None, None)


def plan_from(versions: list[tuple[datetime, bool, int | None]]) -> Plan:
    """From one consultation's diagnosis versions, oldest first: (created_at, confirmed, interval)."""
    if not versions or not versions[-1][1]:
        return NO_PLAN
    start = next(created_at for created_at, confirmed, _ in versions if confirmed)
    return Plan(start, versions[-1][0], versions[-1][2])


def episode_outcome(consultation: Consultation, until: datetime | None = None) -> Outcome:
    """The outcome of one consultation's episode from its shared screenings, as of `until`."""
    until = until or utcnow()
    points = [Measurement(s.created_at, s.phq9_total, s.phq9_item9, s.affect_indicator)
              for s in shared_screenings(consultation) if s.created_at <= until]
    plan = plan_from([(d.created_at, d.confirmed, d.followup_interval_days)
                      for d in consultation.diagnoses if d.created_at <= until])
    return outcomes.evaluate(points, plan.treatment_start, until)


@dataclass(frozen=True)
class ShownPrompt:
    kind: str
    text: str
    screening_id: int


def open_prompts(consultation: Consultation) -> list[ShownPrompt]:
    """Treat-to-target prompts for the treating doctor, less those dismissed at this screening."""
    if consultation.status is not ConsultationStatus.ACCEPTED:
        return []
    screenings = shared_screenings(consultation)
    if not screenings:
        return []
    latest_id = screenings[-1].id
    dismissed = set(db.session.scalars(select(PromptDismissal.kind).where(
        PromptDismissal.consultation_id == consultation.id, PromptDismissal.screening_id == latest_id)))
    return [ShownPrompt(p.kind, p.text, latest_id) for p in outcomes.prompts(episode_outcome(consultation))
            if p.kind not in dismissed]


def dismiss_prompt(doctor: User, consultation: Consultation, kind: str, screening_id: int,
                   reason: str) -> PromptDismissal:
    reason = (reason or "").strip()
    if not reason:
        raise CareError(_("Give a reason for dismissing this prompt."))
    if len(reason) > REASON_MAX:
        raise CareError(_("The reason may be at most %(count)d characters.", count=REASON_MAX))
    shown = {(p.kind, p.screening_id) for p in open_prompts(consultation)}
    existing = db.session.scalars(select(PromptDismissal).where(
        PromptDismissal.consultation_id == consultation.id, PromptDismissal.kind == kind,
        PromptDismissal.screening_id == screening_id)).first()
    if existing is not None:
        return existing  # dismissed twice (double click): the first reason stands
    if (kind, screening_id) not in shown:
        raise CareError(_("This prompt no longer applies; the page has been updated."), 409)
    dismissal = PromptDismissal(consultation_id=consultation.id, screening_id=screening_id,
                                doctor_id=doctor.id, kind=kind, reason=reason)
    db.session.add(dismissal)
    db.session.flush()
    # Ids only: the reason and the prompt stay in the clinical record, out of the admins' trail.
    audit.record("care_prompt.dismiss", actor_id=doctor.id, patient_id=consultation.patient_id,
                 target=f"consultation:{consultation.id}", details={"dismissal_id": dismissal.id})
    db.session.commit()
    return dismissal
