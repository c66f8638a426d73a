"""Browser tests: real Chromium (Debian's, through Playwright) against a real MoodLens.

`live_server` runs the way `make run` does: gunicorn with gthread workers and a real
`flask worker`, both on the embedded Redis in a temporary instance folder, with the schema
built by the real migrations (`flask db upgrade`). SQLite by default; a PostgreSQL
TEST_DATABASE_URL gets a database of its own for the session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import samples
from tests.e2e.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, running_server
from tests.e2e.fake_webcam import write_y4m

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("live"), worker_name="e2e-worker") as server:
        yield server


@pytest.fixture(scope="session")
def fake_webcam_video(tmp_path_factory) -> Path:
    return write_y4m(samples.astronaut(), tmp_path_factory.mktemp("webcam") / "face.y4m")


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: scripts/run_tests.sh installs it "
                    "(apt-get install chromium)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def launch_browser(playwright_instance):
    """Launch Chromium, optionally with a chosen picture as the fake webcam."""
    launched = []

    def launch(fake_video: Path | None = None):
        args = list(CHROMIUM_ARGS)
        if fake_video:
            args.append(f"--use-file-for-fake-video-capture={fake_video}")
        browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


@pytest.fixture(scope="session")
def browser(launch_browser, fake_webcam_video):
    return launch_browser(fake_webcam_video)


@pytest.fixture
def new_page(browser, live_server, request):
    """Open pages in fresh browser contexts (separate cookies: one per person in the test)."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    ARTIFACTS.mkdir(exist_ok=True)
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, context in enumerate(contexts):
        if failed:
            for number, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}-{index}-{number}.png"),
                                full_page=True)
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
