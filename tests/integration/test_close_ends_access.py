"""Closing a consultation ends the doctor's access to the patient's screenings, media and chat,
and to new shares; the doctor keeps reading their own diagnosis and reports; the patient can
still stop sharing."""

from __future__ import annotations

from app.extensions import db
from app.models.care import Consultation, ScreeningShare
from app.services import consultations
from tests import factories
from tests.helpers import client_for, post
from tests.integration.access_world import build_world


def test_closing_ends_the_doctors_access_but_keeps_their_own_record(app):
    world = build_world()
    owner, doctor = world.users["owner"], world.users["assigned_doctor"]
    doctor_client, patient_client = client_for(app, doctor), client_for(app, owner)
    c_url, s_id = f"/consultations/{world.consultation_id}", world.screening_id
    patient_data = (f"/screenings/{s_id}", f"/api/v1/screenings/{s_id}", f"/screenings/{s_id}/media/photo",
                    f"/screenings/{s_id}/media/crop", f"/screenings/{s_id}/media/gradcam",
                    f"{c_url}/screenings/{s_id}")
    for url in patient_data:  # while open: the treating doctor sees it all
        assert doctor_client.get(url).status_code == 200, url

    consultations.close(owner, db.session.get(Consultation, world.consultation_id))

    for url in patient_data:
        assert doctor_client.get(url).status_code == 404, url
    assert doctor_client.get(f"{c_url}/messages", headers={"HX-Request": "true"}).status_code == 404
    page = doctor_client.get(c_url).get_data(as_text=True)
    assert "How do I start?" not in page  # the patient's chat words are not the doctor's record
    assert "Depression confirmed" in page and "CBT" in page  # the doctor's own diagnosis stays
    assert doctor_client.get(f"/reports/{world.report_id}").status_code == 200
    assert doctor_client.get(f"/reports/{world.report_id}.pdf").status_code == 200
    assert doctor_client.get(f"{c_url}/diagnosis").status_code == 404  # no new clinical work
    assert post(doctor_client, f"{c_url}/reports", page=c_url).status_code == 404

    # No new share reaches a closed consultation; the patient still sees "Stop sharing".
    newer = factories.screening(owner, total=20)
    assert post(patient_client, f"{c_url}/share", {"screening_id": newer.id}, page=c_url).status_code == 409
    page = patient_client.get(c_url).get_data(as_text=True)
    assert "Stop sharing" in page
    response = post(patient_client, f"{c_url}/shares/{world.share_id}/revoke", page=c_url)
    assert response.status_code == 302
    assert db.session.get(ScreeningShare, world.share_id).revoked_at is not None
    assert doctor_client.get(f"/screenings/{newer.id}").status_code == 404
