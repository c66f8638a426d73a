"""Every read of a patient's data by a clinician leaves an audit row: the chat log and its htmx
poll, the doctor's home panels and the consultation list; repeats within the window coalesce
into one row per consultation and place (real Redis keys), so polling does not flood the trail."""

from __future__ import annotations

import time

import redis as redis_lib
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.services import chat, consultations
from tests import factories
from tests.helpers import HTMX, client_for


def _views(doctor) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.target).where(
        AuditEvent.action == "patient_data.view", AuditEvent.actor_id == doctor.id).order_by(AuditEvent.id)))


def _episode():
    doctor = factories.doctor()
    patient, waiting = factories.patient(name="Paula Open"), factories.patient(name="Wanda Waiting")
    consultation = factories.consultation(patient, doctor, [factories.screening(patient, 9)])
    chat.post_message(patient, consultation, "hello")
    request = consultations.request_consultation(waiting, doctor.id, [], "please")
    return doctor, patient, consultation, request


def test_list_panel_and_chat_poll_are_audited_once_per_window(app):
    doctor, patient, consultation, request = _episode()
    client = client_for(app, doctor)
    for _ in range(3):
        assert client.get("/consultations").status_code == 200
        assert client.get("/care/panels/doctor", headers=HTMX).status_code == 200
        assert client.get(f"/consultations/{consultation.id}/messages", headers=HTMX).status_code == 200
    views = _views(doctor)
    expected = {f"consultation:{consultation.id}:list", f"consultation:{request.id}:list",
                f"consultation:{consultation.id}:panel", f"consultation:{request.id}:panel",
                f"consultation:{consultation.id}:chat"}
    assert sorted(views) == sorted(expected)  # each once, despite three rounds
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.target.in_(expected))).all()
    assert {row.patient_id for row in rows} == {patient.id, request.patient_id}

    # The patient reading their own chat is not a clinician's read.
    patient_client = client_for(app, patient)
    patient_client.get(f"/consultations/{consultation.id}/messages", headers=HTMX)
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "patient_data.view", AuditEvent.actor_id == patient.id)).all()


def test_a_new_window_records_again(app_factory, redis_url):
    app = app_factory(AUDIT_READ_COALESCE_SECONDS=1)
    redis_lib.Redis.from_url(redis_url).flushdb()
    with app.app_context():
        doctor, _, consultation, _ = _episode()
        client = client_for(app, doctor)
        url = f"/consultations/{consultation.id}/messages"
        client.get(url, headers=HTMX)
        client.get(url, headers=HTMX)
        time.sleep(1.2)
        client.get(url, headers=HTMX)
        assert _views(doctor).count(f"consultation:{consultation.id}:chat") == 2
