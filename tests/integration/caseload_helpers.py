"""Building episodes of care for the caseload tests (no tests here): a patient, their screenings
spread over weeks, a consultation the doctor accepted, and a confirmed diagnosis."""

from __future__ import annotations

from datetime import timedelta

from app.clinical.phq9 import band_for
from app.extensions import db
from app.models._time import utcnow
from app.models.care import ScreeningShare, ShareSource
from tests import factories


def episode(doctor, name: str, screenings: list[tuple[float, int]], *, item9_last: int = 0,
            diagnosed_weeks_ago: float | None = None, interval_days: int = 14, affect: float = 60.0):
    """`screenings`: (weeks ago, PHQ-9 total), oldest first. The first is shared with the request;
    the others are shared as follow-ups. Returns (patient, consultation)."""
    patient = factories.patient(name=name)
    (weeks, total), rest = screenings[0], screenings[1:]
    first = factories.screening(patient, total, affect=affect, days_ago=weeks * 7,
                                item9=item9_last if not rest else 0)
    consultation = factories.consultation(patient, doctor, [first])
    if diagnosed_weeks_ago is not None:
        diagnosis = factories.diagnosis(doctor, consultation, severity=band_for(total).key,
                                        followup_interval_days=interval_days)
        diagnosis.created_at = utcnow() - timedelta(weeks=diagnosed_weeks_ago)
    for index, (weeks, total) in enumerate(rest):
        last = index == len(rest) - 1
        screening = factories.screening(patient, total, affect=affect - 3 * (index + 1), days_ago=weeks * 7,
                                        item9=item9_last if last else 0)
        db.session.add(ScreeningShare(consultation_id=consultation.id, screening_id=screening.id,
                                      source=ShareSource.FOLLOW_UP))
    db.session.commit()
    return patient, consultation
