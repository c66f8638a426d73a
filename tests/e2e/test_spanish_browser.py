"""The Spanish edition in a real browser on a 390 px phone: the footer switch, a questionnaire-only
screening in the validated Spanish PHQ-9, and the result in Spanish, axe-clean."""

from __future__ import annotations

import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_time

from app.extensions import db
from app.models.screening import Screening
from app.models.user import User
from app.services import consent
from tests.e2e.browser import PHONE_WIDTH, answer_phq9, log_in, screenshot

pytestmark = pytest.mark.browser

MILD = [1, 1, 1, 1, 1, 1, 1, 0, 0]  # total 7: the mild band, no crisis
ZONE = "America/Mexico_City"


@pytest.fixture
def mexico_city_phone(browser, live_server):
    """A phone whose clock is set to Mexico City (UTC-6 all year)."""
    context = browser.new_context(base_url=live_server.url, timezone_id=ZONE, locale="en-US",
                                  viewport={"width": PHONE_WIDTH, "height": 844})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_switching_to_spanish_in_the_footer_then_screening_on_a_phone(live_server, mexico_city_phone):
    patient = live_server.create_user("patient", name="Lucía Llano")
    app = live_server.app()
    with app.app_context():
        consent.grant(db.session.get(User, patient["id"]))
        db.session.remove()

    page = mexico_city_phone
    page.goto("/auth/login")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Language").get_by_role("button", name="Español").click()
    page.wait_for_url("**/auth/login")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_label("Contraseña").is_visible()

    log_in(page, patient)
    page.goto("/screenings/new")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_text("Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias").count()
    assert page.get_by_text("Poco interés o placer en hacer cosas").count() == 1
    page.check("input[name=include][value=questionnaire]")
    answer_phq9(page, MILD)
    page.click("#submit-screening")
    page.wait_for_url(re.compile(r".*/screenings/\d+$"))

    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("#plain-meaning").inner_text() == (
        "Sus respuestas muestran algunos signos de ánimo bajo, de nivel leve. Muchas personas se sienten "
        "así durante un tiempo.")
    assert page.locator(".band").first.inner_text() == "Leve"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(page, "result-questionnaire-es-390")  # axe-core at 390 px

    # The browser's zone, reported by timezone.js, is now the account's; times show in it.
    screening_id = int(page.url.rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.get(User, patient["id"]).timezone == ZONE
        taken = db.session.get(Screening, screening_id).created_at
        db.session.remove()
    moment = taken.replace(tzinfo=UTC).astimezone(ZoneInfo(ZONE))  # shown to the minute
    local = f"{format_date(moment, 'medium', locale='es')}, {format_time(moment, 'short', locale='es')}"
    page.reload()
    assert local in page.locator("main").inner_text()
