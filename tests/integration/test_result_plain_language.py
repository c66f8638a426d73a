"""The result page speaks plainly to patients and clinically to doctors, and says when the face
and the questionnaire disagree."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.clinical.phq9 import BANDS
from app.extensions import db
from app.models._time import utcnow
from app.models.care import Consultation, ConsultationStatus, ScreeningShare, ShareSource
from tests import factories
from tests.helpers import client_for


@pytest.mark.parametrize("band", BANDS, ids=lambda band: band.key)
def test_each_band_has_plain_words_for_the_patient(app, patient, band):
    screening = factories.screening(patient, total=band.low)
    page = client_for(app, patient).get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert band.plain_meaning in page and band.plain_next in page
    assert band.proposed_action not in page


def test_the_treating_doctor_reads_the_clinical_wording(app, patient, doctor):
    screening = factories.screening(patient, total=16)
    consultation = Consultation(patient_id=patient.id, doctor_id=doctor.id, message="",
                                status=ConsultationStatus.ACCEPTED, accepted_at=utcnow())
    db.session.add(consultation)
    db.session.flush()
    db.session.add(ScreeningShare(consultation_id=consultation.id, screening_id=screening.id,
                                  source=ShareSource.REQUEST))
    db.session.commit()
    page = client_for(app, doctor).get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert "Active treatment with pharmacotherapy" in page and "What you can do next" not in page
    assert db.session.scalar(select(Consultation.id)) == consultation.id


@pytest.mark.parametrize(("total", "affect", "disagrees"), [
    (12, 8.0, True),    # a smile for the camera next to a moderate questionnaire
    (3, 85.0, True),    # a sad-looking face next to a minimal questionnaire
    (12, 72.0, False),  # both point the same way
    (3, 30.0, False),
])
def test_disagreement_between_face_and_questionnaire_is_said(app, patient, total, affect, disagrees):
    screening = factories.screening(patient, total=total, affect=affect)
    page = client_for(app, patient).get(f"/screenings/{screening.id}").get_data(as_text=True)
    assert ('id="signals-disagree"' in page) is disagrees
    if disagrees:
        assert "The questionnaire is what counts" in page
