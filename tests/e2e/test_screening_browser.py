"""The screening journey in real Chromium: consent, webcam clip or photo, PHQ-9, progress, result."""

from __future__ import annotations

import re

from tests import samples
from tests.e2e.browser import RESULT_TIMEOUT, answer_phq9, consent_from_home, log_in, screenshot


def test_record_a_clip_with_the_webcam_and_see_the_result(page, live_server):
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    page.click("#camera-start")
    page.wait_for_selector("#camera-preview:not([hidden])")
    page.click("#record-start")
    page.wait_for_selector("#countdown:not([hidden])")
    page.wait_for_selector("#clip-playback:not([hidden])", timeout=30_000)  # 3 s countdown + 10 s clip
    assert "Clip recorded" in page.inner_text("#record-status")
    answer_phq9(page, [1, 1, 0, 1, 0, 0, 1, 0, 0])
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    assert page.locator("#crisis-panel").count() == 0
    assert "This is a screening, not a diagnosis" in page.inner_text("main")
    page.wait_for_selector("#affect-indicator", timeout=RESULT_TIMEOUT)
    assert page.locator("#facial-analysis").get_attribute("data-status") == "done"
    assert page.locator("#timeline-chart polyline").count() >= 1
    assert page.locator("#emotion-chart rect.bar-fill").count() == 7
    assert page.evaluate("document.querySelector('.face-crop img').naturalWidth") == 160
    screenshot(page, "screening-clip-result")
    page.goto("/screenings")
    assert "clip" in page.inner_text("table.history") and "done" in page.inner_text("table.history")


def test_upload_a_photo_with_item9_shows_the_crisis_panel(page, live_server, tmp_path):
    photo = tmp_path / "me.jpg"
    photo.write_bytes(samples.astronaut_jpeg())
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    page.set_input_files("#media", str(photo))
    answer_phq9(page, [2, 2, 1, 1, 1, 1, 1, 1, 1], difficulty=2)
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    # Immediately, before any facial result: the crisis panel and the call to talk to a doctor.
    assert page.locator("#crisis-panel").is_visible()
    assert "emergency" in page.inner_text("#crisis-panel")
    assert page.locator("#doctor-cta").is_visible()
    screening_id = page.url.rsplit("/", 1)[1]
    links = page.locator("#doctor-cta a")
    if links.count():  # the care-loop area is installed
        assert links.first.get_attribute("href") == f"/consultations/new?screening={screening_id}"
    page.wait_for_selector("#affect-indicator", timeout=RESULT_TIMEOUT)
    assert page.locator("#crisis-panel").is_visible()
    assert page.locator(".face-frame rect.face-box-primary").count() == 1
    assert "11" in page.inner_text("#phq9-result") and "Moderate" in page.inner_text("#phq9-result")
    screenshot(page, "screening-photo-result-crisis")


def test_missing_answers_are_named_and_the_form_is_forgiving(page, live_server, tmp_path):
    photo, huge = tmp_path / "me.jpg", tmp_path / "huge.jpg"
    photo.write_bytes(samples.astronaut_jpeg())
    huge.write_bytes(b"\xff\xd8" + b"\0" * (11 * 1024 * 1024))
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    # Too large a file is refused before it is uploaded.
    page.set_input_files("#media", str(huge))
    assert "larger than 10 MB" in page.inner_text("#form-error")
    assert page.evaluate("document.getElementById('media').files.length") == 0
    page.set_input_files("#media", str(photo))
    for number in (1, 2, 4, 5, 6, 8, 9):
        page.check(f"input[name=q{number}][value='0']")
    page.click("#submit-screening")
    assert "questions 3 and 7 still need an answer" in page.inner_text("#form-error")
    assert page.url.endswith("/screenings/new")
    assert "field-invalid" in page.get_attribute("#fieldset-q3", "class")
    assert "field-invalid" not in page.get_attribute("#fieldset-q4", "class")
    assert page.evaluate("document.activeElement.name") == "q3"
    # Enter on an answer chooses it; it does not submit the form.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert page.url.endswith("/screenings/new")
    assert page.is_checked("input[name=q3][value='1']")
    page.set_viewport_size({"width": 390, "height": 844})
    height = page.evaluate("document.querySelector('#fieldset-q3 .choice').getBoundingClientRect().height")
    assert height >= 44
    screenshot(page, "screening-form-missing-390")


def test_take_a_still_with_the_webcam(page, live_server):
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    page.click("#camera-start")
    page.wait_for_selector("#camera-preview:not([hidden])")
    page.wait_for_function("document.getElementById('camera-preview').videoWidth > 0")
    page.click("#still-take")
    page.wait_for_selector("#still-preview:not([hidden])")
    assert page.get_attribute("#screening-form", "data-captured") == "photo"
    answer_phq9(page, [0, 0, 0, 0, 0, 0, 0, 0, 0], difficulty=0)
    screenshot(page, "screening-new-still")
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    page.wait_for_selector("#affect-indicator", timeout=RESULT_TIMEOUT)
    assert page.locator(".face-frame rect.face-box-primary").count() == 1


def test_camera_denied_is_explained_and_upload_offered(page, live_server):
    # As if the person clicked "Block" on the browser's camera prompt.
    page.add_init_script(
        "navigator.mediaDevices.getUserMedia = () =>"
        " Promise.reject(new DOMException('denied', 'NotAllowedError'));"
    )
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    page.click("#camera-start")
    page.wait_for_selector("#camera-message:not([hidden])")
    assert "Camera access was denied" in page.inner_text("#camera-message")
    assert "upload a photo" in page.inner_text("#camera-message")
    assert page.locator("#media").is_visible() and not page.locator("#record-start").is_visible()


def test_crisis_lines_appear_in_the_form_at_item9_and_lead_straight_to_a_doctor(page, live_server, tmp_path):
    photo = tmp_path / "me.jpg"
    photo.write_bytes(samples.astronaut_jpeg())
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    page.set_input_files("#media", str(photo))
    answer_phq9(page, [1, 1, 1, 1, 0, 0, 0, 0, 0])
    assert not page.locator("#crisis-now").is_visible()
    page.check("input[name=q9][value='2']")
    panel = page.locator("#crisis-now")
    assert panel.is_visible() and panel.get_attribute("role") == "alert"
    assert panel.locator("a[href^='tel:']").count() >= 1
    page.set_viewport_size({"width": 390, "height": 844})
    panel.scroll_into_view_if_needed()
    screenshot(page, "screening-form-crisis-390")
    page.check("input[name=q9][value='0']")  # changing the answer back hides it again
    assert not panel.is_visible()
    page.check("input[name=q9][value='1']")
    page.click("#submit-talk-now")
    page.wait_for_url(re.compile(r".*/consultations/new\?screening=\d+$"))
    screening_id = page.url.rsplit("=", 1)[1]
    assert page.locator(f"input[name=screenings][value='{screening_id}']").is_checked()
    page.goto("/patient")
    assert page.locator("#crisis-home").is_visible()
    assert page.locator("#crisis-home a[href^='tel:']").count() >= 1
    screenshot(page, "patient-home-crisis-390")


def test_questionnaire_only_without_a_camera(page, live_server):
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    page.check("input[name=include][value='questionnaire']")
    assert not page.locator("#face-parts").is_visible()
    answer_phq9(page, [1, 2, 1, 1, 1, 2, 1, 1, 0])
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    assert page.locator("#questionnaire-only").is_visible()
    assert "10" in page.inner_text("#phq9-result") and page.locator("#doctor-cta").is_visible()
    assert page.locator("#analysis-progress").count() == 0
    screenshot(page, "screening-questionnaire-only-result")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "screening-questionnaire-only-result-390")
