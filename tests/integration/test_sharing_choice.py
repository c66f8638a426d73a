"""During treatment a new screening is shared with the treating doctor only if the patient leaves
"share" ticked and it says something (a face was found, the questionnaire alone, or item 9 above
0 whatever the analysis did); the result page tells the patient who sees it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.care import Consultation, Notification, ScreeningShare
from app.models.screening import Screening, ScreeningStatus
from app.services import consent, consultations, diagnoses
from tests import factories
from tests import samples as screening_samples
from tests.helpers import client_for, form_data, post


@pytest.fixture
def treated(app, patient, doctor) -> Consultation:
    first = factories.screening(patient, total=14, days_ago=3)
    consultation = consultations.request_consultation(patient, doctor.id, [first.id], "")
    consultations.accept(doctor, consultation)
    diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderate", plan="psychotherapy", followup_interval_days=14))
    consent.grant(patient)
    return consultation


def _shared(screening) -> bool:
    share = db.session.scalars(select(ScreeningShare).where(
        ScreeningShare.screening_id == screening.id, ScreeningShare.revoked_at.is_(None))).first()
    return share is not None


def test_the_form_offers_the_choice_and_unticking_keeps_it_private(app, patient, doctor, treated):
    client = client_for(app, patient)
    page = client.get("/screenings/new").get_data(as_text=True)
    assert f"Share this screening with Dr {doctor.display_name}" in page
    assert re.search(r'<input checked[^>]*name="share_with_care"', page)

    data = {**form_data(client, None, answers=[1] * 8 + [0]), "include": "questionnaire",
            "share_offered": "1"}
    response = client.post("/screenings/new", data=data, content_type="multipart/form-data")
    private = db.session.get(Screening, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert not private.share_with_care and not _shared(private)
    result = client.get(f"/screenings/{private.id}").get_data(as_text=True)
    assert "You chose to keep this screening to yourself." in result
    assert f"Share with Dr {doctor.display_name}" in result

    data = {**form_data(client, None, answers=[1] * 8 + [0]), "include": "questionnaire",
            "share_offered": "1", "share_with_care": "y"}
    response = client.post("/screenings/new", data=data, content_type="multipart/form-data")
    shared = db.session.get(Screening, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert _shared(shared)
    result = client.get(f"/screenings/{shared.id}").get_data(as_text=True)
    assert f"Shared with Dr {doctor.display_name}." in result and "Stop sharing" in result


def test_a_photo_waits_for_a_face_and_a_no_face_test_run_is_not_shared(app, patient, doctor, treated):
    client = client_for(app, patient)
    response = client.post("/screenings/new", content_type="multipart/form-data",
                           data=form_data(client, screening_samples.astronaut_jpeg(), filename="me.jpg"))
    photo = db.session.get(Screening, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert not _shared(photo)
    assert "It will be shared with Dr" in client.get(f"/screenings/{photo.id}").get_data(as_text=True)

    photo.status, photo.face_status = ScreeningStatus.DONE, "none"
    db.session.commit()
    result = client.get(f"/screenings/{photo.id}").get_data(as_text=True)
    assert not _shared(photo) and "not shared automatically because no face was found" in result
    db.session.refresh(treated)
    assert not treated.urgent
    # Shared by hand, it reaches the doctor like any other.
    post(client, f"/consultations/{treated.id}/share", {"screening_id": str(photo.id)},
         page=f"/consultations/{treated.id}")
    assert _shared(photo)


def test_an_item9_screening_is_shared_whatever_the_analysis_did(app, patient, doctor, treated):
    crisis = factories.screening(patient, total=9, item9=1, status=ScreeningStatus.FAILED)
    client = client_for(app, patient)
    result = client.get(f"/screenings/{crisis.id}").get_data(as_text=True)
    assert f"Shared with Dr {doctor.display_name}." in result
    assert _shared(crisis)
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == doctor.id)).all()
    assert "screening.shared.urgent" in kinds
