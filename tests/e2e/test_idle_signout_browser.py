"""The idle sign-out in real Chromium, with a one-minute limit: a doctor's home page left open
(its panels poll every 30 s) still times out. Half a minute before, an alert offers "Stay signed
in", which restarts the clock; left alone, the page goes to the log-in form, which says why."""

from __future__ import annotations

import time

import pytest

from tests.e2e.browser import log_in, running_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def short_idle_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("idle"), worker_name="idle-e2e-worker",
                        CLINICIAN_IDLE_MINUTES="1") as server:
        yield server


def test_an_open_page_warns_then_signs_out_after_the_idle_limit(browser, short_idle_server):
    doctor = short_idle_server.create_user("doctor")
    context = browser.new_context(base_url=short_idle_server.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, doctor)
        page.goto("/doctor")
        loaded = time.monotonic()
        warning = page.locator("#idle-warning[role=alert]")
        stay = warning.get_by_role("button", name="Stay signed in")
        stay.wait_for(timeout=40_000)  # 30 s before the end of a one-minute limit
        assert 25 < time.monotonic() - loaded < 40
        assert "signed out in less than a minute" in warning.inner_text()
        assert page.evaluate("document.activeElement.hasAttribute('data-stay')")  # nobody had the focus
        screenshot(page, "idle-01-warning")

        page.keyboard.press("Enter")  # the focused button: a real request, the clock restarts
        stayed = time.monotonic()
        page.wait_for_function("!document.getElementById('idle-warning').firstChild")
        assert page.url.endswith("/doctor")

        stay.wait_for(timeout=40_000)  # warned again half a minute later: the polls kept nothing alive
        assert time.monotonic() - stayed > 25
        page.wait_for_url("**/auth/login", timeout=45_000)
        assert time.monotonic() - stayed > 58
        assert "signed out after a period of inactivity" in page.locator("#messages").inner_text()
        screenshot(page, "idle-02-signed-out")
        page.goto("/doctor")
        assert "/auth/login" in page.url  # the session is over, not just the page
    finally:
        context.close()
