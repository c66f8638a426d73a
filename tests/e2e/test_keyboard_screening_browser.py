"""A whole screening by keyboard alone, as someone who cannot use a mouse takes it: Tab to move,
Space to press and choose, arrows to change an answer, Enter to submit."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browser import log_in, screenshot

pytestmark = pytest.mark.browser

ANSWERS = [1, 2, 0, 1, 3, 0, 1, 1, 0]  # total 9, item 9 at 0


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focus is on `selector` (fails if the page never gets there)."""
    for _ in range(limit):
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


def choose(page, name: str, value: int) -> None:
    """Into a radio group by Tab, Space picks its first option, arrows move to `value`."""
    tab_to(page, f"input[name={name}]")
    page.keyboard.press("Space")
    for _ in range(value):
        page.keyboard.press("ArrowRight")
    assert page.locator(f"input[name={name}]:checked").get_attribute("value") == str(value)


def test_a_questionnaire_only_screening_by_keyboard_alone(page, live_server):
    log_in(page, live_server.create_user("patient"))
    page.goto("/screenings/consent")
    tab_to(page, "#give-consent")
    page.keyboard.press("Space")
    page.wait_for_url("**/screenings/new")

    tab_to(page, "input[name=include]")
    for _ in range(4):
        if page.locator("input[name=include][value=questionnaire]").is_checked():
            break
        page.keyboard.press("ArrowRight")
    assert page.locator("input[name=include][value=questionnaire]").is_checked()
    assert not page.locator("#face-parts").is_visible()

    for number, value in enumerate(ANSWERS, start=1):
        choose(page, f"q{number}", value)
    page.keyboard.press("Enter")  # Enter on a radio answers nothing and submits nothing
    assert page.url.endswith("/screenings/new")
    choose(page, "difficulty", 1)

    tab_to(page, "#submit-screening")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    assert page.locator("#questionnaire-only").is_visible()
    assert str(sum(ANSWERS)) in page.inner_text("#phq9-result")
    screenshot(page, "screening-by-keyboard-result")
