"""Without JavaScript, a screening form that comes back with an error keeps the chosen photo:
the patient fixes the answer and submits without choosing the photo again."""

from __future__ import annotations

import re
import time

import pytest

from app.extensions import db
from app.models.screening import Screening
from app.models.user import User
from app.services import consent
from tests import samples
from tests.e2e.browser import ARTIFACTS, RESULT_TIMEOUT, log_in

pytestmark = pytest.mark.browser


def test_the_photo_is_kept_through_a_server_side_error_without_javascript(browser, live_server, tmp_path):
    photo = tmp_path / "my-face.jpg"
    photo.write_bytes(samples.astronaut_jpeg())
    patient = live_server.create_user("patient", name="Noel Noscript")
    app = live_server.app()
    with app.app_context():
        consent.grant(db.session.get(User, patient["id"]))
        db.session.remove()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, patient)
        page.goto("/screenings/new")
        page.set_input_files("#media", str(photo))
        for number, value in enumerate([1, 1, 0, None, 0, 0, 1, 0, 0], start=1):  # question 4 left out
            if value is not None:
                page.check(f"input[name=q{number}][value='{value}']")
        page.check("input[name=difficulty][value='1']")
        page.click("#submit-screening")
        page.wait_for_load_state()
        assert page.url.endswith("/screenings/new")  # the server answered with the form again
        assert "question 4 still needs an answer" in page.inner_text("#form-error")
        assert page.locator("#fieldset-q4.field-invalid").count() == 1
        kept = page.locator("#held-upload")
        assert "my-face.jpg" in kept.inner_text() and "is kept" in kept.inner_text()
        # Page scripts cannot run here, axe-core included: it checks the same page in other tests.
        page.screenshot(path=str(ARTIFACTS / "screening-photo-kept-no-js.png"), full_page=True)

        page.check("input[name=q4][value='1']")
        page.click("#submit-screening")
        page.wait_for_url(re.compile(r".*/screenings/\d+$"))
        screening_id = int(page.url.rsplit("/", 1)[1])
        deadline = time.monotonic() + RESULT_TIMEOUT / 1000
        while page.locator("#affect-indicator").count() == 0:  # no htmx here: reload as a person would
            assert time.monotonic() < deadline, "the analysis did not finish"
            time.sleep(1)
            page.reload()
        assert page.locator(".face-frame rect.face-box-primary").count() == 1
        page.screenshot(path=str(ARTIFACTS / "screening-photo-kept-result-no-js.png"), full_page=True)
    finally:
        context.close()
    with app.app_context():
        screening = db.session.get(Screening, screening_id)
        assert screening.kind.value == "photo" and screening.phq9_answers[3] == 1
        db.session.remove()
