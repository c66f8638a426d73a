"""The doctor's caseload in real Chromium: response and −60 %, an item-9 screening moving its
patient to the top, filters and sorting by keyboard with a URL that back/forward follow, a
treat-to-target prompt dismissed with a reason, axe-core at 1280 and 390 px, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.care import ScreeningShare, ShareSource
from app.models.user import User
from tests import factories
from tests.e2e.browser import AXE, axe_violations, log_in, screenshot
from tests.integration.caseload_helpers import episode

pytestmark = pytest.mark.browser



def names(page) -> list[str]:
    return page.locator("#caseload-table .caseload-name").all_inner_texts()


def first_is(page, name: str) -> None:
    expect(page.locator("#caseload-table .caseload-name").first).to_have_text(name)


def shows_rows(page, count: int) -> None:
    # Locator assertions, not wait_for_function: the page's CSP forbids the eval that one needs.
    expect(page.locator("#caseload-table tbody tr")).to_have_count(count)


def test_caseload_in_the_browser(live_server, browser, new_page):
    doctor = live_server.create_user("doctor", name="Carla Caseload")
    app = live_server.app()
    with app.app_context():
        me = db.session.get(User, doctor["id"])
        episode(me, "Rita Responder", [(10, 20), (0, 8)], diagnosed_weeks_ago=10)
        sam, sam_care = episode(me, "Sam Steady", [(4, 12), (1, 10)], diagnosed_weeks_ago=4)
        _, stan_care = episode(me, "Stan Stuck", [(11, 18), (0, 16)], diagnosed_weeks_ago=11)
        episode(me, "Remy Remission", [(8, 14), (1, 3)], diagnosed_weeks_ago=8)
        sam_id, sam_care_id, stan_care_id = sam.id, sam_care.id, stan_care.id
        db.session.remove()

    page = new_page()
    log_in(page, doctor)
    page.goto("/doctor")
    page.locator("#caseload-home").wait_for()
    screenshot(page, "caseload-doctor-home")
    page.click("#caseload-open")
    page.wait_for_url("**/doctor/caseload")
    rita = page.locator("#caseload-table tr", has_text="Rita Responder")
    assert "response" in rita.inner_text() and "\u221260 %" in rita.inner_text()
    assert names(page)[0] == "Stan Stuck"  # no response at 11 weeks comes before the rest

    # An item-9 screening moves its patient to the top.
    with app.app_context():
        flagged = factories.screening(db.session.get(User, sam_id), 11, item9=1, days_ago=0)
        db.session.add(ScreeningShare(consultation_id=sam_care_id, screening_id=flagged.id,
                                      source=ShareSource.FOLLOW_UP))
        db.session.commit()
        db.session.remove()
    page.reload()
    assert names(page)[0] == "Sam Steady"
    assert page.locator("#caseload-table tr", has_text="Sam Steady").locator(".caseload-flag").is_visible()
    screenshot(page, "caseload-1280")
    assert axe_violations(page) == []

    # Filters and sorting by keyboard: the URL follows, back and forward work.
    page.focus("#q")
    page.keyboard.type("rita")
    page.wait_for_url(re.compile(r"q=rita"))
    shows_rows(page, 1)
    assert names(page) == ["Rita Responder"]
    page.fill("#q", "")
    shows_rows(page, 4)
    page.focus("#flagged")
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"flagged=y"))
    shows_rows(page, 1)
    assert names(page) == ["Sam Steady"]
    page.keyboard.press("Space")
    shows_rows(page, 4)
    page.focus("#sort")
    page.keyboard.press("n")  # a focused <select> picks the option that starts with the letter typed
    page.wait_for_url(re.compile(r"sort=name"))
    first_is(page, "Remy Remission")
    assert names(page) == sorted(names(page))
    page.go_back()
    first_is(page, "Sam Steady")
    assert "sort=name" not in page.url
    page.go_forward()
    first_is(page, "Remy Remission")
    assert page.locator("#sort").input_value() == "name"

    # A bookmarked filtered view opens as a whole page.
    page.goto("/doctor/caseload?status=response")
    assert names(page) == ["Rita Responder"] and page.locator("#status").input_value() == "response"

    # Phone width: one card per patient, still no axe violation.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/doctor/caseload")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "caseload-390")
    assert axe_violations(page) == []

    # The consultation page prompts the doctor; a dismissal needs a reason.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/consultations/{stan_care_id}")
    prompt = page.locator("#prompt-no_response")
    prompt.wait_for()
    assert "No response after 11 weeks of treatment" in prompt.inner_text()
    screenshot(page, "caseload-consultation-prompt")
    assert axe_violations(page) == []
    prompt.locator("summary").click()
    prompt.locator("textarea").fill("Medication changed at the last visit")
    prompt.locator("button[type=submit]").click()
    page.locator("#prompt-no_response").wait_for(state="detached")


def test_axe_core_is_installed_for_the_browser_tests():
    assert Path(AXE).is_file(), "run `npm ci` (make vendor) to install axe-core for the browser tests"
