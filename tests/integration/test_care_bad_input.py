"""Bad input in the care loop: a clear 4xx, never a 500, never a duplicate row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.care import ChatMessage, Consultation, Diagnosis
from app.services import consultations
from tests import factories
from tests.helpers import client_for, post


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def accepted(app, patient, doctor):
    screening = factories.screening(patient, total=12)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)
    return consultation


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_000])
def test_empty_or_huge_messages_are_refused(app, accepted, patient, body):
    client = client_for(app, patient)
    for headers in ({}, {"HX-Request": "true"}):
        response = post(client, f"/consultations/{accepted.id}/messages", {"body": body}, headers=headers)
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "write a message" in text or "at most" in text
    assert _count(ChatMessage) == 0


def test_html_in_messages_and_notes_is_inert(app, accepted, patient, doctor):
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    post(client_for(app, patient), f"/consultations/{accepted.id}/messages", {"body": attack})
    doctor_client = client_for(app, doctor)
    response = post(doctor_client, f"/consultations/{accepted.id}/diagnosis",
                    {"outcome": "confirmed", "severity": "moderate", "plan": "psychotherapy",
                     "plan_details": attack, "notes": attack, "followup_interval_days": "14"})
    assert response.status_code == 302
    for client in (doctor_client, client_for(app, patient)):
        page = client.get(f"/consultations/{accepted.id}").get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_double_submitted_message_is_stored_once(app, accepted, patient):
    client = client_for(app, patient)
    for _ in range(2):
        assert post(client, f"/consultations/{accepted.id}/messages", {"body": "Hello"}).status_code == 303
    assert _count(ChatMessage) == 1


def test_accepting_a_declined_request_is_a_conflict(app, patient, doctor):
    screening = factories.screening(patient, total=7)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    client = client_for(app, doctor)
    response = post(client, f"/consultations/{consultation.id}/decline", {"reason": ""})
    assert response.status_code == 400 and "reason" in response.get_data(as_text=True)
    response = post(client, f"/consultations/{consultation.id}/decline", {"reason": "Not my field"})
    assert response.status_code == 302
    # The page is gone for this doctor (404); the service answers 409 for the state.
    assert post(client, f"/consultations/{consultation.id}/accept").status_code == 404
    with pytest.raises(consultations.CareError) as error:
        consultations.accept(doctor, db.session.get(Consultation, consultation.id))
    assert error.value.status == 409
    assert db.session.get(Consultation, consultation.id).status.value == "declined"


def test_accepting_twice_is_a_conflict(app, patient, doctor):
    consultation = consultations.request_consultation(patient, doctor.id, [], "")
    client = client_for(app, doctor)
    assert post(client, f"/consultations/{consultation.id}/accept").status_code == 302
    response = post(client, f"/consultations/{consultation.id}/accept")
    assert response.status_code == 409 and "accepted" in response.get_data(as_text=True)


@pytest.mark.parametrize("interval", ["0", "1000", "-3", "abc", ""])
def test_followup_interval_out_of_range(app, accepted, doctor, interval):
    response = post(client_for(app, doctor), f"/consultations/{accepted.id}/diagnosis",
                    {"outcome": "confirmed", "severity": "moderate", "plan": "psychotherapy",
                     "followup_interval_days": interval})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "between 1 and 180 days" in page or "Not a valid integer" in page
    assert _count(Diagnosis) == 0


def test_double_submitted_diagnosis_is_stored_once(app, accepted, doctor):
    client = client_for(app, doctor)
    data = {"outcome": "confirmed", "severity": "moderate", "plan": "combined",
            "followup_interval_days": "14"}
    for _ in range(2):
        assert post(client, f"/consultations/{accepted.id}/diagnosis", data).status_code == 302
    assert _count(Diagnosis) == 1


def test_double_submitted_request_is_refused(app, patient, doctor):
    screening = factories.screening(patient, total=11)
    client = client_for(app, patient)
    data = {"doctor": str(doctor.id), "screenings": [str(screening.id)], "message": "hi"}
    assert post(client, "/consultations/new", data).status_code == 302
    second = post(client, "/consultations/new", data)
    assert second.status_code == 409 and "already have an open consultation" in second.get_data(as_text=True)
    assert _count(Consultation) == 1


def test_sharing_someone_elses_screening_is_refused(app, patient, doctor):
    other = factories.screening(factories.patient(), total=20)
    client = client_for(app, patient)
    assert client.get(f"/consultations/new?screening={other.id}").status_code == 404
    response = post(client, "/consultations/new", {"doctor": str(doctor.id), "screenings": [str(other.id)]})
    assert response.status_code == 400  # not among the form's choices
    assert _count(Consultation) == 0


def test_unknown_or_unverified_doctor(app, patient):
    pending = factories.doctor(verified=False)
    client = client_for(app, patient)
    for doctor_id in (str(pending.id), "99999", "not-a-number"):
        assert post(client, "/consultations/new", {"doctor": doctor_id}).status_code == 400
    assert _count(Consultation) == 0


def test_double_submitted_report_draft_is_stored_once(app, accepted, doctor):
    from app.models.care import Report

    client = client_for(app, doctor)
    for _ in range(2):
        assert post(client, f"/consultations/{accepted.id}/reports", {"period_start": ""}).status_code == 302
    assert _count(Report) == 1
    response = post(client, f"/consultations/{accepted.id}/reports", {"period_start": "2026-13-45"})
    assert response.status_code == 400 and "2026-01-31" in response.get_data(as_text=True)
