"""The local validation study in real Chromium: the model card's validated figures and charts for a
doctor, and research consent on the patient's privacy page, each checked with axe-core."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import evidence, simulated_cohort
from tests.e2e.browser import log_in, screenshot

pytestmark = pytest.mark.browser


def test_model_card_figures_and_research_consent(live_server, new_page):
    app = live_server.app()
    with app.app_context():
        simulated_cohort.seed(120, DEFAULT_PLUGIN, separation=1.5, seed_value=11)
        evidence.refresh()
        db.session.commit()
    doctor = live_server.create_user("doctor", name="Evi Dence")
    page = new_page()
    log_in(page, doctor)
    page.goto(f"/screenings/model-card/{DEFAULT_PLUGIN}")
    section = page.locator("#local-evidence")
    assert "ROC AUC" in section.inner_text() and "Simulated data" in section.inner_text()
    assert section.locator("svg[role=img]").count() >= 2
    screenshot(page, "evidence-01-model-card")

    patient = live_server.create_user("patient", name="Rhea Search")
    page = new_page()
    log_in(page, patient)
    page.goto("/account")
    page.click("#research-grant")
    page.wait_for_selector("#research-withdraw")
    screenshot(page, "evidence-02-research-consent")
    page.click("#research-withdraw")
    page.wait_for_selector("#research-grant")
