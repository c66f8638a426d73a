"""The care loop in real Chromium, two people in two browser contexts, against gunicorn
(gthread) and a real worker: a real photo screening, request, accept, live chat, diagnosis
with a 14-day follow-up, follow-up screening, final report and its PDF."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests import samples
from tests.e2e.browser import (
    ARTIFACTS,
    RESULT_TIMEOUT,
    consent_from_home,
    log_in,
    screenshot,
    take_photo_screening,
)

pytestmark = pytest.mark.browser


def test_patient_and_doctor_through_the_care_loop(live_server, new_page, tmp_path):
    patient = live_server.create_user("patient", name="Paula Browser")
    doctor = live_server.create_user("doctor", name="Demo Doctor")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(samples.astronaut_jpeg())

    # The patient screens (PHQ-9 14, moderate) and follows the call to talk to a doctor.
    p = new_page()
    log_in(p, patient)
    consent_from_home(p)
    screening_id = take_photo_screening(p, photo, [2, 2, 2, 2, 2, 2, 1, 1, 0])
    p.wait_for_selector("#affect-indicator", timeout=RESULT_TIMEOUT)
    cta = p.locator("#doctor-cta a[href*='/consultations/new']")
    if cta.count():  # the result page's call to action, where the screening area shows it
        cta.first.click()
    else:
        p.goto(f"/consultations/new?screening={screening_id}")
    p.wait_for_url(re.compile(r"/consultations/new\?screening=\d+"))
    assert p.locator(f"input[name=screenings][value='{screening_id}']").is_checked()
    p.select_option("select[name=doctor]", str(doctor["id"]))
    p.fill("textarea[name=message]", "I have been feeling low for weeks.")
    p.click("#request-form button[type=submit]")
    p.wait_for_url(re.compile(r"/consultations/\d+$"))
    consultation_url = p.url
    screenshot(p, "care-01-patient-request-sent")

    # The doctor finds it in the inbox and accepts.
    d = new_page()
    log_in(d, doctor)
    d.goto("/doctor")
    d.locator("#care-inbox").get_by_text("Paula Browser").wait_for()
    screenshot(d, "care-01b-doctor-inbox")
    d.locator("#care-inbox").get_by_text("Paula Browser").click()
    d.wait_for_url(consultation_url)
    d.click("#accept-button")
    d.wait_for_selector("#chat-log")
    screenshot(d, "care-02-doctor-accepted")

    # Both chat; each sees the other's message appear without reloading.
    p.reload()
    p.wait_for_selector("#chat-log")
    d.fill("#body", "Hello Paula, thank you for writing. How are you sleeping?")
    d.click("#send-button")
    p.locator("#chat-log").get_by_text("How are you sleeping?").wait_for(timeout=10_000)
    p.fill("#body", "Badly, <b>I wake up at 4</b>.")
    p.click("#send-button")
    d.locator("#chat-log").get_by_text("I wake up at 4").wait_for(timeout=10_000)
    assert d.locator("#chat-log b").count() == 0  # shown as text, not HTML
    screenshot(p, "care-03-patient-chat")
    screenshot(d, "care-04-doctor-chat")

    # The doctor confirms: moderate (the PHQ-9 band), combined plan, follow-up every 14 days.
    d.click("#diagnosis-link")
    d.check("input[name=outcome][value=confirmed]")
    assert d.locator("select[name=severity]").input_value() == "moderate"
    d.select_option("select[name=plan]", "combined")
    d.fill("textarea[name=plan_details]", "CBT once a week; sertraline discussed.")
    d.fill("input[name=followup_interval_days]", "14")
    d.click("#diagnosis-form button[type=submit]")
    d.wait_for_url(consultation_url)
    assert "every 14 days" in d.locator("#diagnosis").inner_text()
    p.reload()
    assert "talking therapy and medication" in p.locator("#diagnosis").inner_text()
    screenshot(p, "care-05-patient-diagnosis")

    # The patient takes the follow-up; it is linked to the episode and shared automatically.
    take_photo_screening(p, photo, [1, 1, 1, 1, 1, 1, 1, 1, 1])
    p.goto("/patient")
    p.wait_for_selector("#care-tasks")
    assert "Next follow-up screening" in p.locator("#care-tasks").inner_text()
    screenshot(p, "care-05b-patient-home")
    p.goto(consultation_url)
    assert p.locator("#shared-screenings tbody tr").count() == 2

    # The doctor drafts and finalises a report.
    d.reload()
    d.click("#new-report button[type=submit]")
    d.wait_for_url(re.compile(r"/reports/\d+$"))
    report_url = d.url
    d.fill("textarea[name=comments]", "Engaged in therapy; follow up in two weeks.")
    d.click("text=Save comments")
    d.once("dialog", lambda dialog: dialog.accept())
    d.click("#finalise-button")
    d.locator("#report-status").get_by_text("final").wait_for()
    screenshot(d, "care-06-doctor-report")

    # The patient reads it and downloads the PDF.
    p.goto(report_url)
    assert "Moderate" in p.locator("#report-severity").inner_text()
    screenshot(p, "care-07-patient-report")
    with p.expect_download() as download_info:
        p.click("#pdf-link")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf_path = ARTIFACTS / "care-report.pdf"
    download_info.value.save_as(str(pdf_path))
    assert pdf_path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed to read the PDF")
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Moderate" in text
    assert "Treatment plan, considering counseling" in text
    assert "CONFIDENTIAL" in text and f"Patient #{patient['id']}" in text
