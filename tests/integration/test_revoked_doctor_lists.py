"""A doctor whose verification is revoked (or was never given) sees no patient list anywhere:
not at /consultations, not at /notifications, not in the navigation badges or home panel."""

from __future__ import annotations

import re

import pytest

from app.models.user import User
from app.services import admin_doctors, chat, consultations
from tests import factories
from tests.helpers import client_for


@pytest.mark.parametrize("how", ["revoked", "rejected"])
def test_unverified_doctor_sees_no_patients(app, admin, how):
    doctor = factories.doctor()
    patient = factories.patient(name="Quentin Private")
    screening = factories.screening(patient, total=22, item9=1)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "please")
    consultations.accept(doctor, consultation)
    chat.post_message(patient, consultation, "an unread message")
    client = client_for(app, doctor)
    before = client.get("/consultations").get_data(as_text=True)
    assert "Quentin Private" in before and re.search(r'class="badge"', before)

    if how == "revoked":
        admin_doctors.revoke(doctor.id, admin, "licence withdrawn")
    else:  # a never-verified state: the same rule applies to pending and rejected doctors
        profile = app.extensions["sqlalchemy"].session.get(User, doctor.id).doctor_profile
        profile.verification_status = profile.verification_status.__class__.REJECTED
        app.extensions["sqlalchemy"].session.commit()

    for url in ("/consultations", "/notifications", "/doctor"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert "Quentin Private" not in html, url
        assert 'class="badge"' not in html, url
        assert "urgent" not in html.lower(), url
    assert client.get("/care/panels/doctor").status_code == 404
