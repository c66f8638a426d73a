"""MoodLens on a 390 px phone, for each role: the header stays one row with its links behind a
keyboard-operable "Menu", wide tables scroll inside their card (never the page), and the trend
chart's text is at least 11 px on screen."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.training_run import TrainingRun, TrainingStatus
from app.models.user import User
from app.services import api_tokens
from tests import factories
from tests.e2e.browser import PHONE_WIDTH, log_in, screenshot

pytestmark = pytest.mark.browser

EXPRESSIONS = {"neutral": 0.41, "happy": 0.2, "sad": 0.14, "surprise": 0.1, "angry": 0.07, "fear": 0.05,
               "disgust": 0.03}
ONE_ROW = 64  # px: the brand and the menu button with their padding
MIN_TEXT_PX = 11


@pytest.fixture(scope="module")
def people(live_server):
    """A patient in an accepted consultation with a trend of screenings, their doctor (with a
    draft report and an API token) and an admin."""
    patient = live_server.create_user("patient", name="Petra Phone")
    doctor = live_server.create_user("doctor", name="Dorian Narrowscreen-Longname")
    admin = live_server.create_user("admin")
    app = live_server.app()
    with app.app_context():
        me, them = db.session.get(User, patient["id"]), db.session.get(User, doctor["id"])
        shared = [factories.screening(me, total, days_ago=days)
                  for total, days in [(19, 70), (16, 56), (14, 42), (12, 28), (9, 14), (6, 1)]]
        consultation = factories.consultation(me, them, shared=shared)
        report_id, consultation_id = factories.report(them, consultation).id, consultation.id
        api_tokens.issue_personal(them, "Ward laptop with a rather long descriptive name", ["fhir:read"], 30)
        latest = shared[-1]
        latest.facial_result = {"summary": {"distribution": EXPRESSIONS}}
        history = {"loss": [1.9, 1.5, 1.2], "val_loss": [1.95, 1.6, 1.4],
                   "accuracy": [0.25, 0.41, 0.52], "val_accuracy": [0.22, 0.37, 0.46]}
        run = TrainingRun(plugin="baseline-cnn", status=TrainingStatus.DONE, data_path="fer2013.csv",
                          progress={"epochs": 3, "epoch_done": 3, "elapsed_s": 95, "history": history})
        db.session.add(run)
        db.session.commit()
        screening_id, run_id = latest.id, run.id
        db.session.remove()
    return {"patient": patient, "doctor": doctor, "admin": admin, "report_id": report_id,
            "consultation_id": consultation_id, "screening_id": screening_id, "run_id": run_id}


@pytest.fixture(scope="module")
def phone(browser, live_server, people):
    """One signed-in page per role, shared by this module's tests (a clinician's second factor
    accepts each code once, so signing in for every test would run out of codes)."""
    contexts, pages = [], {}

    def page_for(role: str):
        if role not in pages:
            context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            contexts.append(context)
            pages[role] = context.new_page()
            log_in(pages[role], people[role])
        page = pages[role]
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        return page

    yield page_for
    for context in contexts:
        context.close()


def _wide_nav_names(page) -> list[str]:
    """The names of the links and buttons the full (desktop) navigation shows."""
    page.set_viewport_size({"width": 1280, "height": 900})
    names = page.locator(".nav-wide").locator("a, button").evaluate_all(
        "els => els.map(e => e.innerText.trim())")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    return names


def _tab_through_menu(page) -> list[str]:
    """Open the menu from the keyboard and Tab through it; the names focused, in order."""
    page.locator(".nav-menu summary").focus()
    page.keyboard.press("Enter")
    assert page.locator(".nav-menu").evaluate("d => d.open"), "Enter did not open the menu"
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        inside, name = page.evaluate(
            "() => [!!document.activeElement.closest('.nav-menu'), document.activeElement.innerText.trim()]")
        if not inside:
            break
        reached.append(name)
    return reached


@pytest.mark.parametrize("role", ["patient", "doctor", "admin"])
def test_the_header_is_one_row_on_a_phone_and_its_menu_works_by_keyboard(phone, people, role):
    page = phone(role)
    page.goto("/")
    wide_names = _wide_nav_names(page)
    assert "Log out" in wide_names and len(wide_names) >= 2

    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= ONE_ROW, f"the {role}'s header is {header['height']} px tall at 390 px"
    assert page.locator(".nav-wide").is_hidden()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH

    assert _tab_through_menu(page) == wide_names
    for link in page.locator(".nav-menu").locator("a, button").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, "a menu entry is off screen"
    screenshot(page, f"header-menu-open-{role}-390")

    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator(".nav-menu").is_hidden()
    assert page.locator(".site-header").bounding_box()["height"] <= ONE_ROW
    screenshot(page, f"header-{role}-1280")


def test_the_menu_opens_without_javascript(browser, live_server, people):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": PHONE_WIDTH, "height": 844})
    try:
        page = context.new_page()
        log_in(page, people["patient"])
        page.goto("/")
        page.locator(".nav-menu summary").click()
        page.locator(".nav-menu").get_by_role("link", name="Screenings").click()
        page.wait_for_url("**/screenings")
    finally:
        context.close()


TABLE_PAGES = {
    "admin": ["/admin/users", "/admin/audit", "/admin/doctors?status=all", "/admin/plugins", "/admin/queue",
              "/admin/integrations"],
    "doctor": ["/doctor/caseload", "/account/api-tokens", "/consultations/{consultation_id}"],
    "patient": ["/screenings", "/consultations/{consultation_id}"],
}


LENGTHEN_PATHS = """() => {
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    node.nodeValue = node.nodeValue.replace(/(^|\\s)\\//g, "$1/srv/hospital/moodlens-production/");
  }
}"""


@pytest.mark.parametrize("role,path", [(role, path) for role, paths in TABLE_PAGES.items() for path in paths])
def test_wide_tables_scroll_inside_their_card_on_a_phone(phone, people, role, path):
    page = phone(role)
    path = path.format(**people)
    page.goto(path)
    tables = page.locator("main table")
    assert tables.count() >= 1, f"{path} shows no table"
    for index in range(tables.count()):
        table = tables.nth(index)
        if table.is_hidden():
            continue
        region = table.locator("xpath=ancestor::div[@role='region'][1]")
        assert region.count() == 1, f"a table on {path} is not in a scroll region"
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")
        box = region.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH, f"{path} scrolls sideways"
    # Server paths (a model folder in an "unavailable" reason) are as long as the deployment makes
    # them: one checked out deeper than this one must not push the page sideways either.
    page.evaluate(LENGTHEN_PATHS)
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"{path} scrolls sideways with long paths"
    screenshot(page, f"phone-table-{role}-" + path.strip("/").split("?")[0].replace("/", "-"))


def _chart_text_sizes(page, charts: str = ".care-chart svg") -> list[tuple[str, float, float]]:
    """(text, on-screen font size, box height) of each chart label the reader can see."""
    return page.eval_on_selector_all(f"{charts} text", """els => els
        .filter(t => getComputedStyle(t).display !== 'none')
        .map(t => [t.textContent.trim(), parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
                   t.getBoundingClientRect().height])""")


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_the_trend_chart_text_is_legible_on_a_phone(phone, people, role):
    page = phone(role)
    page.goto("/patient/history" if role == "patient" else f"/reports/{people['report_id']}")
    sizes = _chart_text_sizes(page)
    assert len(sizes) >= 8  # six y-axis ticks, the values and the first and last dates
    small = [(text, round(px, 1)) for text, px, height in sizes if px < MIN_TEXT_PX or height < MIN_TEXT_PX]
    assert small == [], f"chart text under {MIN_TEXT_PX} px at 390 px: {small}"
    chart = page.locator(".care-chart svg").first.bounding_box()
    assert chart["x"] >= 0 and chart["x"] + chart["width"] <= PHONE_WIDTH
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    screenshot(page, f"chart-{role}-390")


@pytest.mark.parametrize("role,chart", [("patient", "#emotion-chart svg"), ("admin", "figure.chart svg")])
def test_result_and_training_charts_are_legible_on_a_phone(phone, people, role, chart):
    page = phone(role)
    page.goto(f"/screenings/{people['screening_id']}" if role == "patient"
              else f"/admin/models/runs/{people['run_id']}")
    sizes = _chart_text_sizes(page, chart)
    assert len(sizes) >= (2 * len(EXPRESSIONS) if role == "patient" else 6)  # labels and values; axes
    small = [(text, round(px, 1)) for text, px, height in sizes if px < MIN_TEXT_PX or height < MIN_TEXT_PX]
    assert small == [], f"chart text under {MIN_TEXT_PX} px at 390 px: {small}"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    screenshot(page, f"chart-{role}-phone")
