"""The crisis path: PHQ-9 item 9 above 0 gives tap-to-call crisis lines in the form, on the result
and on the patient's home until a treating doctor has read the screening; sharing an urgent
screening by hand alerts the doctor."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models._time import utcnow
from app.models.audit import AuditEvent
from app.models.care import Consultation, ConsultationStatus, Notification
from app.models.screening import Screening
from app.services import consent
from tests import factories
from tests import samples as screening_samples
from tests.helpers import client_for, form_data, post

LINES = [("Samaritans", "116 123"), ("Emergency services", "999"), ("Talk to someone you trust", None)]
CRISIS_ANSWERS = [1, 1, 1, 1, 0, 0, 0, 0, 1]


@pytest.fixture
def app(app_factory, redis_url):
    import redis as redis_lib

    app = app_factory(CRISIS_LINES=LINES)
    redis_lib.Redis.from_url(redis_url).flushdb()
    with app.app_context():
        yield app


def _accepted_consultation(patient, doctor) -> Consultation:
    consultation = Consultation(patient_id=patient.id, doctor_id=doctor.id, message="",
                                status=ConsultationStatus.ACCEPTED, accepted_at=utcnow())
    db.session.add(consultation)
    db.session.commit()
    return consultation


def test_form_shows_crisis_lines_once_item9_is_answered_on_a_server_side_error(app, patient):
    consent.grant(patient)
    client = client_for(app, patient)
    page = client.get("/screenings/new").get_data(as_text=True)
    assert re.search(r'<section[^>]*id="crisis-now"[^>]*hidden', page)  # revealed by crisis.js
    # The form comes back (no media) with item 9 answered: the panel is already open.
    response = client.post("/screenings/new", data=form_data(client, None, answers=CRISIS_ANSWERS),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    panel = re.search(r'<section[^>]*id="crisis-now"[^>]*>', page).group(0)
    assert "hidden" not in panel
    assert 'href="tel:116123">Call Samaritans: 116 123</a>' in page
    assert 'href="tel:999"' in page and "Talk to someone you trust" in page


def test_submit_and_talk_to_a_doctor_now_opens_the_request_with_this_screening(app, patient):
    consent.grant(patient)
    client = client_for(app, patient)
    data = form_data(client, screening_samples.astronaut_jpeg(), filename="me.jpg", answers=CRISIS_ANSWERS)
    response = client.post("/screenings/new", data={**data, "then": "doctor"},
                           content_type="multipart/form-data")
    screening = db.session.scalars(select(Screening)).one()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/consultations/new?screening={screening.id}"
    request_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*value="{screening.id}"', request_page)

    data = form_data(client, screening_samples.astronaut_jpeg(), filename="me.jpg", answers=CRISIS_ANSWERS)
    response = client.post("/screenings/new", data={**data, "then": "doctor"},
                           content_type="multipart/form-data",
                           headers={"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"})
    body = response.get_json()
    assert response.status_code == 201 and body["next"].startswith("/consultations/new?screening=")
    assert body["url"] == f"/screenings/{body['id']}"


def test_result_page_offers_the_lines_and_a_doctor(app, patient):
    screening = factories.screening(patient, total=9, item9=1)
    page = client_for(app, patient).get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert 'id="crisis-panel"' in page and 'href="tel:116123"' in page
    assert f'id="crisis-talk-now" href="/consultations/new?screening={screening.id}"' in page


def test_home_keeps_the_crisis_panel_until_a_treating_doctor_has_read_it(app, patient, doctor):
    calm = factories.screening(patient, total=3)
    screening = factories.screening(patient, total=9, item9=2)
    patient_client, doctor_client = client_for(app, patient), client_for(app, doctor)
    home = patient_client.get("/patient").get_data(as_text=True)
    assert 'id="crisis-home"' in home and "No doctor has seen it yet" in home
    assert 'href="tel:116123"' in home and f"/consultations/new?screening={screening.id}" in home

    consultation = _accepted_consultation(patient, doctor)
    post(patient_client, f"/consultations/{consultation.id}/share", {"screening_id": str(screening.id)},
         page=f"/consultations/{consultation.id}")
    home = patient_client.get("/patient").get_data(as_text=True)
    assert f"shared with Dr {doctor.display_name}, who has not read it yet" in home.replace("It is s", "s")

    url = f"/consultations/{consultation.id}/screenings/{screening.id}"
    # Another doctor, and a screening without item 9, cannot be acknowledged.
    stranger = client_for(app, factories.doctor(name="Other Doctor"))
    assert post(stranger, f"{url}/acknowledge", page="/doctor").status_code == 404
    post(patient_client, f"/consultations/{consultation.id}/share", {"screening_id": str(calm.id)},
         page=f"/consultations/{consultation.id}")
    calm_url = f"/consultations/{consultation.id}/screenings/{calm.id}/acknowledge"
    assert post(doctor_client, calm_url, page="/doctor").status_code == 409
    assert 'id="crisis-home"' in patient_client.get("/patient").get_data(as_text=True)

    assert "I have read this screening" in doctor_client.get(url).get_data(as_text=True)
    response = post(doctor_client, f"{url}/acknowledge", page="/doctor")
    assert response.status_code == 303
    db.session.refresh(screening)
    assert screening.crisis_acknowledged_by_id == doctor.id and screening.crisis_acknowledged_at
    assert 'id="crisis-home"' not in patient_client.get("/patient").get_data(as_text=True)
    assert f"Read by Dr {doctor.display_name}" in doctor_client.get(url).get_data(as_text=True)
    # Admins read the audit trail: nothing there may single out the item-9 screening.
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert not any("crisis" in action or "acknowledge" in action for action in actions)

    # A newer item-9 screening brings the panel back.
    factories.screening(patient, total=10, item9=1)
    assert 'id="crisis-home"' in patient_client.get("/patient").get_data(as_text=True)


def test_an_urgent_screening_shared_by_hand_alerts_the_doctor(app, patient, doctor):
    consultation = _accepted_consultation(patient, doctor)
    calm, urgent = factories.screening(patient, total=4), factories.screening(patient, total=8, item9=1)
    patient_client = client_for(app, patient)
    for screening in (calm, urgent):
        response = post(patient_client, f"/consultations/{consultation.id}/share",
                        {"screening_id": str(screening.id)}, page=f"/consultations/{consultation.id}")
        assert response.status_code in (302, 303)
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == doctor.id)
                               .order_by(Notification.id)).all()
    assert kinds == ["screening.shared", "screening.shared.urgent"]
    db.session.refresh(consultation)
    assert consultation.urgent
