"""Helpers shared by the care-loop tests (no tests here)."""

from __future__ import annotations

from datetime import timedelta

from app.clinical.phq9 import score_phq9
from app.extensions import db
from app.models._time import utcnow
from app.models.screening import Screening, ScreeningKind, ScreeningStatus
from tests.conftest import csrf_token


def answers_for(total: int, item9: int = 0) -> list[int]:
    """Nine answers (0-3) adding up to `total`, with item 9 as given."""
    answers, remaining = [0] * 9, total - item9
    answers[8] = item9
    for index in range(8):
        answers[index] = min(3, remaining)
        remaining -= answers[index]
    assert remaining == 0, total
    return answers


def make_screening(patient, total: int, item9: int = 0, affect: float | None = 55.0,
                   days_ago: float = 0, status: ScreeningStatus = ScreeningStatus.DONE) -> Screening:
    result = score_phq9(answers_for(total, item9), 1)
    screening = Screening(patient_id=patient.id, kind=ScreeningKind.PHOTO, status=status,
                          plugin_name="test", consent_version="test", phq9_answers=list(result.answers),
                          phq9_difficulty=1, phq9_total=result.total, phq9_item9=item9,
                          phq9_band=result.band, urgent=item9 > 0, affect_indicator=affect,
                          face_status="one" if status is ScreeningStatus.DONE else None,
                          created_at=utcnow() - timedelta(days=days_ago))
    db.session.add(screening)
    db.session.commit()
    return screening


def post(client, url: str, data: dict | None = None, page: str = "/doctors", **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs)


def client_for(app, user):
    """A test client logged in as `user`."""
    from tests.conftest import login

    client = app.test_client()  # one per person: the conftest client class isolates `g`
    login(client, user)
    return client


def finalise_report(doctor, report):
    """Finalise as the page does: the real templates render the frozen page and PDF."""
    from flask import current_app

    from app.blueprints.reports.routes import render_final
    from app.services import reports

    with current_app.test_request_context():
        return reports.finalise(doctor, report, render=render_final)
