"""The report on a 390 px phone: its tables scroll inside their card (in a focusable, labelled
region) instead of widening the page."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.care import TreatmentPlan
from app.models.user import User
from app.services import consultations, diagnoses, reports
from app.services.diagnoses import DiagnosisInput
from tests import factories
from tests.e2e.browser import log_in, screenshot

pytestmark = pytest.mark.browser


def test_report_tables_scroll_inside_their_card_on_a_phone(live_server, new_page):
    patient = live_server.create_user("patient", name="Nora Narrow")
    doctor = live_server.create_user("doctor", name="Ivo Inline")
    app = live_server.app()
    with app.app_context():
        me, them = db.session.get(User, patient["id"]), db.session.get(User, doctor["id"])
        screening = factories.screening(me, total=14)
        consultation = consultations.request_consultation(me, them.id, [screening.id], "")
        consultations.accept(them, consultation)
        diagnoses.record(them, consultation, DiagnosisInput(
            outcome="confirmed", severity="moderate", notes="", plan=TreatmentPlan.PSYCHOTHERAPY.value,
            plan_details="CBT", followup_interval_days=14))
        report_id = reports.create(them, consultation).id
        db.session.remove()

    page = new_page()
    log_in(page, doctor)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/reports/{report_id}")
    regions = page.locator(".table-scroll[role=region][tabindex='0']")
    assert regions.count() == 2
    for index in range(2):
        assert regions.nth(index).get_attribute("aria-label")
        box = regions.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page scroll
    screenshot(page, "report-390")
