"""Who may see what in the care loop: only the patient and the doctor who accepted."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.care import Report
from app.security.policy import screening_visible_to
from app.services import consultations
from tests import factories
from tests.helpers import client_for, finalise_report, post


@pytest.fixture
def episode(app, patient, doctor):
    """An accepted consultation with a shared screening, a diagnosis and a final report."""
    screening = factories.screening(patient, total=14)
    consultation = factories.consultation(patient, doctor, [screening], message="hi")
    factories.diagnosis(doctor, consultation, severity="moderate")
    report = finalise_report(doctor, factories.report(doctor, consultation))
    return consultation, screening, report


def patient_urls(consultation, screening, report) -> list[str]:
    base = f"/consultations/{consultation.id}"
    return [base, f"{base}/screenings/{screening.id}", f"{base}/diagnosis", f"/reports/{report.id}",
            f"/reports/{report.id}.pdf", f"/screenings/{screening.id}"]


@pytest.mark.parametrize("who", ["unassigned", "declined", "unverified", "other_patient", "admin"])
def test_outsiders_get_404_or_403(app, episode, who):
    consultation, screening, report = episode
    if who == "unassigned":
        user = factories.doctor()
    elif who == "unverified":
        user = factories.doctor(verified=False)
    elif who == "other_patient":
        user = factories.patient()
    elif who == "admin":
        user = factories.admin()
    else:
        user = factories.doctor()
        declined = consultations.request_consultation(consultation.patient, user.id, [screening.id], "")
        consultations.decline(user, declined, "Not my field")
    client = client_for(app, user)
    for url in patient_urls(*episode):
        if url.startswith("/screenings/") and "screening.detail" not in app.view_functions:
            continue
        assert client.get(url).status_code in (403, 404), (who, url)
    for url in (f"/consultations/{consultation.id}/messages", f"/consultations/{consultation.id}/close",
                f"/consultations/{consultation.id}/screening-request", f"/reports/{report.id}/finalise"):
        assert post(client, url, {"body": "x"}).status_code in (403, 404), (who, url)
    assert not screening_visible_to(user, screening)


def test_declined_doctor_loses_the_request_page(app, patient, doctor):
    screening = factories.screening(patient, total=9)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    client = client_for(app, doctor)
    assert client.get(f"/consultations/{consultation.id}").status_code == 200
    consultations.decline(doctor, consultation, "Full list")
    assert client.get(f"/consultations/{consultation.id}").status_code == 404
    page = client_for(app, patient).get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "Full list" in page


def test_revoking_a_share_removes_the_doctors_access(app, episode, doctor, patient):
    consultation, screening, _ = episode
    doctor_client = client_for(app, doctor)
    url = f"/consultations/{consultation.id}/screenings/{screening.id}"
    assert doctor_client.get(url).status_code == 200
    assert screening_visible_to(doctor, screening)
    share = consultation.active_shares[0]
    revoke = f"/consultations/{consultation.id}/shares/{share.id}/revoke"
    assert post(client_for(app, patient), revoke).status_code == 302
    assert doctor_client.get(url).status_code == 404
    assert not screening_visible_to(doctor, screening)


def test_patient_sees_only_final_reports(app, episode, doctor, patient):
    consultation, _, _ = episode
    draft = factories.report(doctor, consultation)
    client = client_for(app, patient)
    assert client.get(f"/reports/{draft.id}").status_code == 404
    assert client.get(f"/reports/{draft.id}.pdf").status_code == 404
    assert post(client, f"/reports/{draft.id}/finalise").status_code in (403, 404)
    assert db.session.get(Report, draft.id).status.value == "draft"


def test_a_revoked_doctor_loses_access(app, episode, doctor):
    from app.models.user import VerificationStatus

    consultation, screening, _ = episode
    client = client_for(app, doctor)
    assert client.get(f"/consultations/{consultation.id}").status_code == 200
    doctor.doctor_profile.verification_status = VerificationStatus.REVOKED
    db.session.commit()
    assert client.get(f"/consultations/{consultation.id}").status_code == 404
    assert not screening_visible_to(doctor, screening)


def test_the_treating_doctor_reads_the_screening_page_and_is_audited(app, episode, doctor):
    from sqlalchemy import select

    from app.models.audit import AuditEvent

    _, screening, _ = episode
    response = client_for(app, doctor).get(f"/screenings/{screening.id}")
    assert response.status_code == 200
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "patient_data.view", AuditEvent.actor_id == doctor.id,
        AuditEvent.target == f"screening:{screening.id}")) is not None
