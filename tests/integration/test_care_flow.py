"""The care loop end to end through the HTTP routes: request, accept, chat, diagnosis,
follow-up, report, PDF, history."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.care import (
    ChatMessage,
    Consultation,
    ConsultationStatus,
    Diagnosis,
    Report,
    ScreeningRequest,
    ScreeningShare,
    ShareSource,
)
from app.models.screening import ScreeningStatus
from tests import factories
from tests.helpers import HTMX, client_for, post


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_directory_lists_verified_doctors_with_filters(app, patient):
    factories.doctor(name="Ana Verified", languages="en,fr", specialty="Psychiatry")
    factories.doctor(name="Ben Pending", verified=False)
    factories.doctor(name="Cleo German", languages="de", specialty="General practice")
    client = client_for(app, patient)
    page = client.get("/doctors").get_data(as_text=True)
    assert "Ana Verified" in page and "Cleo German" in page and "Ben Pending" not in page
    page = client.get("/doctors?language=fr").get_data(as_text=True)
    assert "Ana Verified" in page and "Cleo German" not in page
    page = client.get("/doctors?specialty=General+practice").get_data(as_text=True)
    assert "Cleo German" in page and "Ana Verified" not in page


def test_full_care_loop(app, patient, doctor):
    screening = factories.screening(patient, total=12, affect=62.0, days_ago=1)
    patient_client, doctor_client = client_for(app, patient), client_for(app, doctor)

    form = patient_client.get(f"/consultations/new?screening={screening.id}").get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*value="{screening.id}"', form), form
    response = post(patient_client, "/consultations/new",
                    {"doctor": str(doctor.id), "screenings": [str(screening.id)], "message": "Hello doctor"})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    consultation = db.session.scalars(select(Consultation)).one()
    assert consultation.status is ConsultationStatus.REQUESTED and not consultation.urgent
    url = f"/consultations/{consultation.id}"

    # Before accepting, the doctor sees the request, not the screening.
    panel = doctor_client.get("/care/panels/doctor", headers=HTMX).get_data(as_text=True)
    assert patient.display_name in panel and url in panel
    assert doctor_client.get(f"{url}/screenings/{screening.id}").status_code == 404
    assert post(doctor_client, f"{url}/accept").status_code == 302
    page = doctor_client.get(url).get_data(as_text=True)
    assert f"{url}/screenings/{screening.id}" in page
    detail = doctor_client.get(f"{url}/screenings/{screening.id}")
    assert detail.status_code == 200 and "12 / 27" in detail.get_data(as_text=True)
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient_data.view",
                                                        AuditEvent.actor_id == doctor.id)).all()
    assert {e.target for e in views} >= {f"consultation:{consultation.id}", f"screening:{screening.id}"}

    # Chat, both ways, with unread counts in the navigation.
    sent = post(doctor_client, f"{url}/messages", {"body": "How are you sleeping?"},
                headers=HTMX)
    assert sent.status_code == 200 and "How are you sleeping?" in sent.get_data(as_text=True)
    unread_badge = 'Consultations <span class="badge" aria-label="1 unread">'
    assert unread_badge in patient_client.get("/consultations").get_data(as_text=True)
    fragment = patient_client.get(f"{url}/messages", headers=HTMX).get_data(as_text=True)
    assert "How are you sleeping?" in fragment and 'hx-trigger="live-nudge"' in fragment
    assert unread_badge in patient_client.get("/consultations").get_data(as_text=True)  # GET: no change
    read_url = re.search(r'hx-post="([^"]+/messages/read)"', fragment).group(1)
    up_to = re.search(r'hx-vals=\'\{"up_to": (\d+)\}\'', fragment).group(1)
    assert post(patient_client, read_url, {"up_to": up_to}, headers=HTMX).status_code == 204
    assert unread_badge not in patient_client.get("/consultations").get_data(as_text=True)
    post(patient_client, f"{url}/messages", {"body": "Badly, thank you."}, headers=HTMX)
    assert "Badly, thank you." in doctor_client.get(f"{url}/messages",
                                                    headers=HTMX).get_data(as_text=True)

    # The doctor asks for a new screening: a task on the patient home; the next one is linked.
    assert post(doctor_client, f"{url}/screening-request").status_code == 302
    panel = patient_client.get("/care/panels/patient", headers=HTMX).get_data(as_text=True)
    assert "asked you to take a new screening" in panel
    requested = factories.screening(patient, total=13, affect=60.0)
    patient_client.get("/care/panels/patient", headers=HTMX)
    share = db.session.scalars(select(ScreeningShare).where(
        ScreeningShare.screening_id == requested.id)).one()
    assert share.source is ShareSource.REQUESTED
    assert db.session.scalars(select(ScreeningRequest)).one().screening_id == requested.id

    # Diagnosis: confirmed, moderate (as the PHQ-9 band), combined plan, 14-day follow-up.
    response = post(doctor_client, f"{url}/diagnosis",
                    {"outcome": "confirmed", "severity": "moderate", "plan": "combined",
                     "plan_details": "CBT weekly", "followup_interval_days": "14", "notes": "Seen in chat"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    page = patient_client.get(url).get_data(as_text=True)
    assert "moderate" in page and "talking therapy and medication" in page and "every 14 days" in page

    # A follow-up screening is shared automatically.
    followup = factories.screening(patient, total=6, affect=40.0)
    patient_client.get("/care/panels/patient", headers=HTMX)
    share = db.session.scalars(select(ScreeningShare).where(ScreeningShare.screening_id == followup.id)).one()
    assert share.source is ShareSource.FOLLOW_UP

    # Report: drafted (invisible to the patient), finalised, PDF.
    response = post(doctor_client, f"{url}/reports", {"period_start": "", "period_end": ""})
    assert response.status_code == 302
    report = db.session.scalars(select(Report)).one()
    assert patient_client.get(f"/reports/{report.id}").status_code == 404
    post(doctor_client, f"/reports/{report.id}", {"comments": "Improving <b>steadily</b>"})
    assert post(doctor_client, f"/reports/{report.id}/finalise").status_code == 302
    page = patient_client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Improving &lt;b&gt;steadily&lt;/b&gt;" in page and "<svg" in page and "Moderate" in page
    assert "Treatment plan, considering counseling" in page
    pdf = patient_client.get(f"/reports/{report.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True,
                              check=True).stdout.decode()
        assert "Moderate" in text and "counseling" in text and "CONFIDENTIAL" in text
        assert f"Patient #{patient.id}" in text

    # History: every screening, the consultation, the diagnosis and the report.
    history = patient_client.get("/patient/history").get_data(as_text=True)
    assert history.count("Screening (photo)") == 3 and "Report from your doctor" in history
    assert "confirmed depression" in history and "<svg" in history

    # Closing keeps the record; chat stops.
    assert post(patient_client, f"{url}/close").status_code == 302
    assert db.session.get(Consultation, consultation.id).status is ConsultationStatus.CLOSED
    assert doctor_client.get(url).status_code == 200
    assert post(doctor_client, f"{url}/messages", {"body": "late"}).status_code == 409
    assert _count(ChatMessage) == 3 and _count(Diagnosis) == 1


def test_diagnosis_versions_are_never_overwritten(app, patient, doctor):
    from app.services import consultations, diagnoses

    factories.screening(patient, total=16)
    consultation = consultations.request_consultation(patient, doctor.id, [s.id for s in
                                                      consultations.shareable_screenings(patient.id)], "")
    consultations.accept(doctor, consultation)
    first = diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderately_severe", plan="psychotherapy", followup_interval_days=14))
    second = diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="severe", override_reason="Marked functional impairment",
        plan="combined", followup_interval_days=7))
    rows = db.session.scalars(select(Diagnosis).order_by(Diagnosis.version)).all()
    assert [(d.version, d.severity) for d in rows] == [(1, "moderately_severe"), (2, "severe")]
    assert first.id != second.id and rows[0].plan.value == "psychotherapy"
    assert rows[1].band_from_phq9 == "moderately_severe" and rows[1].override_reason
    db.session.refresh(consultation)
    assert consultation.current_diagnosis.version == 2


@pytest.mark.parametrize("severity,reason,ok", [("moderate", "", True), ("severe", "", False),
                                                 ("severe", "Clinical judgement", True)])
def test_override_needs_a_reason(app, patient, doctor, severity, reason, ok):
    from app.services import consultations, diagnoses
    from app.services.consultations import CareError

    screening = factories.screening(patient, total=11)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)
    data = diagnoses.DiagnosisInput(outcome="confirmed", severity=severity, override_reason=reason,
                                    plan="psychotherapy", followup_interval_days=30)
    if ok:
        assert diagnoses.record(doctor, consultation, data).severity == severity
    else:
        with pytest.raises(CareError):
            diagnoses.record(doctor, consultation, data)


def test_followup_due_and_overdue_on_home_pages(app, patient, doctor):
    from app.services import consultations, diagnoses

    screening = factories.screening(patient, total=12, days_ago=30)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)
    diagnosis = diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderate", plan="psychotherapy", followup_interval_days=14))
    diagnosis.created_at -= timedelta(days=20)  # confirmed 20 days ago: 6 days past due
    db.session.commit()
    patient_panel = client_for(app, patient).get("/care/panels/patient", headers=HTMX).get_data(as_text=True)
    assert "follow-up screening is overdue" in patient_panel
    doctor_panel = client_for(app, doctor).get("/care/panels/doctor", headers=HTMX).get_data(as_text=True)
    assert 'id="care-overdue"' in doctor_panel and patient.display_name in doctor_panel


def test_worsening_and_remission_lists(app, doctor):
    from app.services import consultations, diagnoses

    worse, better = factories.patient(name="Will Worse"), factories.patient(name="Rita Remission")
    for person, totals in ((worse, (8, 14)), (better, (12, 3))):
        first = factories.screening(person, total=totals[0], days_ago=10)
        consultation = consultations.request_consultation(person, doctor.id, [first.id], "")
        consultations.accept(doctor, consultation)
        diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
            outcome="confirmed", severity=consultation.shares[0].screening.phq9_band,
            plan="watchful_waiting", followup_interval_days=14))
        factories.screening(person, total=totals[1])
    panel = client_for(app, doctor).get("/care/panels/doctor", headers=HTMX).get_data(as_text=True)
    worsening = panel[panel.index('id="care-worsening"'):panel.index("In remission")]
    remission = panel[panel.index('id="care-remission"'):]
    assert "Will Worse" in worsening and "Rita Remission" not in worsening
    assert "Rita Remission" in remission and "Will Worse" not in remission


def test_inbox_puts_urgent_requests_first(app, doctor):
    from datetime import timedelta

    from app.services import consultations

    created = []
    for name, total, item9, age in (("Old Mild", 7, 0, 3), ("New Severe", 22, 0, 1),
                                    ("Older Moderate", 12, 0, 5), ("Item Nine", 6, 1, 2)):
        person = factories.patient(name=name)
        screening = factories.screening(person, total, item9)
        request = consultations.request_consultation(person, doctor.id, [screening.id], "")
        request.created_at -= timedelta(days=age)
        created.append(request)
    db.session.commit()
    order = [c.patient.display_name for c in consultations.doctor_inbox(doctor.id)]
    assert order == ["Item Nine", "New Severe", "Older Moderate", "Old Mild"]
    panel = client_for(app, doctor).get("/care/panels/doctor", headers=HTMX).get_data(as_text=True)
    positions = [panel.index(name) for name in order]
    assert positions == sorted(positions)


def test_a_screening_submitted_for_a_request_joins_the_episode_at_once(app, patient, doctor):
    """The hook in app.services.screenings.submit_screening links it without any page visit."""
    import io

    from PIL import Image
    from skimage import data

    from app.services import chat, consent, consultations, followups, screenings

    first = factories.screening(patient, total=12)
    consultation = consultations.request_consultation(patient, doctor.id, [first.id], "")
    consultations.accept(doctor, consultation)
    chat.request_screening(doctor, consultation)
    consent.grant(patient)
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG")
    submitted = screenings.submit_screening(patient, buffer.getvalue(), "face.jpg", [2] * 8 + [0], 1)
    # A photo joins once its analysis found a face (the job calls link_to_care when it finishes).
    assert db.session.scalars(select(ScreeningShare).where(
        ScreeningShare.screening_id == submitted.id)).first() is None
    submitted.status, submitted.face_status = ScreeningStatus.DONE, "one"
    db.session.commit()
    followups.link_to_care(patient.id)
    share = db.session.scalars(select(ScreeningShare).where(
        ScreeningShare.screening_id == submitted.id)).one()
    assert share.consultation_id == consultation.id and share.source is ShareSource.REQUESTED
    assert db.session.scalars(select(ScreeningRequest)).one().fulfilled_at is not None
