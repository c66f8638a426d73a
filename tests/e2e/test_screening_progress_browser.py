"""A screening's progress in real Chromium: the result page follows the worker through the
live stream, and still reaches the result by polling when the stream is cut."""

from __future__ import annotations

import re

import pytest

from tests import samples
from tests.e2e.browser import RESULT_TIMEOUT, answer_phq9, consent_from_home, log_in, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("stream", ["open", "cut"])
def test_the_result_arrives_through_the_stream_or_the_fallback_poll(page, live_server, tmp_path, stream):
    photo = tmp_path / "me.jpg"
    photo.write_bytes(samples.astronaut_jpeg())
    log_in(page, live_server.create_user("patient"))
    if stream == "cut":
        page.context.route("**/stream", lambda route: route.abort())
    consent_from_home(page)
    page.set_input_files("#media", str(photo))
    answer_phq9(page, [1, 1, 1, 1, 1, 0, 0, 0, 0])
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))
    progress = page.locator("#facial-analysis")
    if progress.get_attribute("data-status") not in ("done", "failed"):
        # A photo's analysis takes ~50 ms: the result may replace the progress before the page
        # has reported how it follows it.
        live = f"#facial-analysis[data-live={'stream' if stream == 'open' else 'polling'}]"
        page.wait_for_selector(f"{live}, #affect-indicator", state="attached", timeout=RESULT_TIMEOUT)
    page.wait_for_selector("#affect-indicator", timeout=RESULT_TIMEOUT)
    assert progress.get_attribute("data-status") == "done"
    screenshot(page, f"screening-progress-{stream}")
