"""The result page in each of its four kinds — photo, clip, questionnaire only, crisis — in English
and in Spanish, at 1280 and 390 px: each one screenshotted for people to look at, axe-clean, in the
reader's language, never wider than the phone, and always saying that a screening is not a
diagnosis."""

from __future__ import annotations

import re

import pytest

from tests import samples
from tests.e2e.browser import PHONE_WIDTH, RESULT_TIMEOUT, answer_phq9, consent_from_home, log_in, screenshot

pytestmark = pytest.mark.browser

NOT_A_DIAGNOSIS = {"en": "This is a screening, not a diagnosis", "es": "una evaluación, no un diagnóstico"}
MODERATE = [2, 2, 1, 1, 1, 1, 1, 1, 0]  # total 10, no crisis
CRISIS = [2, 2, 1, 1, 1, 1, 1, 1, 1]  # item 9 above zero


def _result(page, kind: str, media_dir) -> None:
    page.goto("/screenings/new")
    if kind == "questionnaire":
        page.check("input[name=include][value=questionnaire]")
    else:
        media = media_dir / ("clip.webm" if kind == "clip" else "photo.jpg")
        media.write_bytes(samples.clip_webm(seconds=3) if kind == "clip" else samples.astronaut_jpeg())
        page.set_input_files("#media", str(media))
    answer_phq9(page, CRISIS if kind == "crisis" else MODERATE)
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    if kind != "questionnaire":
        page.wait_for_selector("#affect-indicator", timeout=RESULT_TIMEOUT)


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_kind_of_result_page_in_both_languages_and_both_widths(page, live_server, tmp_path, language):
    log_in(page, live_server.create_user("patient"))
    consent_from_home(page)
    if language == "es":
        page.get_by_role("navigation", name="Language").get_by_role("button", name="Español").click()
    for kind in ("photo", "clip", "questionnaire", "crisis"):
        page.set_viewport_size({"width": 1280, "height": 900})
        _result(page, kind, tmp_path)
        assert page.locator("html").get_attribute("lang") == language
        assert NOT_A_DIAGNOSIS[language] in page.inner_text("main")
        assert (page.locator("#crisis-panel").count() > 0) == (kind == "crisis")
        screenshot(page, f"result-{kind}-{language}-1280")
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        screenshot(page, f"result-{kind}-{language}-390")
