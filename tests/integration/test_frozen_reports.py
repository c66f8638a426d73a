"""A final report is a medical document: its page and PDF are rendered once and kept (encrypted);
what is shared afterwards never changes it, and changes come as a new version linked to it."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.care import Report, ReportStatus
from app.services import consultations, diagnoses
from app.storage import media_store
from tests import factories
from tests.helpers import client_for, post


def test_final_report_is_frozen_and_amended_as_a_new_version(app, patient, doctor):
    first = factories.screening(patient, total=17, days_ago=20)
    consultation = consultations.request_consultation(patient, doctor.id, [first.id], "")
    consultations.accept(doctor, consultation)
    diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderately_severe", plan="psychotherapy", followup_interval_days=14))
    doctor_client, patient_client = client_for(app, doctor), client_for(app, patient)
    base = f"/consultations/{consultation.id}"
    post(doctor_client, f"{base}/reports", {"comments": "Started therapy."}, page=base)
    report = db.session.scalars(select(Report)).one()
    assert post(doctor_client, f"/reports/{report.id}/finalise", page=base).status_code == 302
    db.session.refresh(report)
    assert report.status is ReportStatus.FINAL and report.snapshot_path and report.pdf_path
    stored_pdf = media_store.load(report.pdf_path)
    assert stored_pdf.startswith(b"%PDF") and b"Started therapy" not in media_store.media_root().joinpath(
        report.pdf_path).read_bytes()  # encrypted at rest
    page_before = patient_client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "17" in page_before and "Version 1" in page_before

    # A screening shared afterwards: the final report's page and PDF stay as they were.
    later = factories.screening(patient, total=23, days_ago=0)
    post(patient_client, f"{base}/share", {"screening_id": str(later.id)}, page=base)
    page_after = patient_client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert ">23<" not in page_after and "23 / 27" not in page_after
    assert page_after.split('<article class="card care-report">')[1].split("</article>")[0] == \
        page_before.split('<article class="card care-report">')[1].split("</article>")[0]
    assert patient_client.get(f"/reports/{report.id}.pdf").data == stored_pdf

    # Amending drafts version 2 (with what is shared now); version 1 says it was amended.
    assert "Amend (draft a new version)" in doctor_client.get(f"/reports/{report.id}").get_data(as_text=True)
    response = post(doctor_client, f"/reports/{report.id}/amend", page=base)
    assert response.status_code == 302
    amendment = db.session.scalars(select(Report).where(Report.amends_id == report.id)).one()
    assert amendment.version == 2 and amendment.status is ReportStatus.DRAFT
    assert amendment.comments == "Started therapy."
    draft_page = doctor_client.get(f"/reports/{amendment.id}").get_data(as_text=True)
    assert "amends" in draft_page and "23" in draft_page
    # The patient sees neither the draft nor a link to it until it is final.
    assert patient_client.get(f"/reports/{amendment.id}").status_code == 404
    assert 'id="amended-by"' not in patient_client.get(f"/reports/{report.id}").get_data(as_text=True)
    old_page = doctor_client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="amended-by"' in old_page and "(draft)" in old_page
    # Amending again while the draft exists returns the same draft; a draft cannot be amended.
    post(doctor_client, f"/reports/{report.id}/amend", page=base)
    assert db.session.scalar(select(db.func.count(Report.id))) == 2
    assert post(doctor_client, f"/reports/{amendment.id}/amend", page=base).status_code == 409
    assert post(doctor_client, f"/reports/{amendment.id}/finalise", page=base).status_code == 302
    db.session.refresh(amendment)
    assert amendment.pdf_path and amendment.status is ReportStatus.FINAL
    assert media_store.load(report.pdf_path) == stored_pdf  # version 1 untouched
