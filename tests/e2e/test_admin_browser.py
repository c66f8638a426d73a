"""The admin console in real Chromium.

Most journeys use the shared `live_server`, where only the pretrained plugin has weights (so they
never change which plugin other tests' screenings use). Switching the default needs a second
runnable plugin: that journey gets a server of its own whose models folder holds an (untrained,
randomly initialised, but real and loadable) baseline-cnn.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests import samples
from tests.e2e.browser import ROOT, answer_phq9, consent_from_home, log_in, running_server, screenshot

DEFAULT = "fer2013-mini-xception"
SECOND = "baseline-cnn"
UNTRAINED = "resnet50v2"
RESULT_TIMEOUT = 120_000  # ms: the worker loads TensorFlow and the new plugin on first use


def _row(page, name: str):
    return page.locator(f"#plugin-{name}")


def test_unavailable_plugins_show_why_and_cannot_be_switched(page, live_server):
    log_in(page, live_server.create_user("admin"))
    page.goto("/admin/plugins")
    for name in (UNTRAINED,):
        row = _row(page, name)
        assert "Unavailable" in row.inner_text()
        assert f"flask ml train {name}" in row.locator(".unavailable-reason").inner_text()
        assert row.locator("button[data-action=enable]").is_disabled()
        assert row.locator("button[data-action=default]").is_disabled()
        assert f"flask ml train {name}" in page.locator(f"#card-{name}").inner_text()
    assert "Default" in _row(page, DEFAULT).inner_text()
    assert "mini-Xception" in page.locator(f"#card-{DEFAULT}").inner_text()
    screenshot(page, "admin-plugins")

    runnable = page.locator("tr.plugin-row:not(.is-unavailable)").count()
    if runnable == 1:  # the shared server: disabling the only runnable plugin is refused, in place
        _row(page, DEFAULT).locator("button[data-action=disable]").click()
        message = page.locator("#messages .flash-error, #messages [role=alert]").first
        message.wait_for()
        assert "at least one must stay enabled" in page.inner_text("#messages")
        assert "Enabled" in _row(page, DEFAULT).inner_text()
        screenshot(page, "admin-plugins-refused")


def test_admin_verifies_one_doctor_and_rejects_another(new_page, live_server):
    admin = live_server.create_user("admin")
    applicant = live_server.create_user("doctor", verified=False, name="Vic Verifiable")
    doubtful = live_server.create_user("doctor", verified=False, name="Rex Rejected")

    page = new_page()
    log_in(page, admin)
    page.goto("/admin/doctors")
    assert page.locator(f"#doctor-{applicant['id']}").is_visible()
    screenshot(page, "admin-doctors")
    page.locator(f"#doctor-{applicant['id']} button[data-action=verify]").click()
    page.wait_for_load_state()
    assert "Vic Verifiable is verified" in page.inner_text("#messages")
    assert page.locator(f"#doctor-{applicant['id']}").count() == 0  # no longer pending

    reason = "Your licence number is not in the national register."
    row = page.locator(f"#doctor-{doubtful['id']}")
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill(reason)
    row.locator("button[data-action=reject]").click()
    page.wait_for_load_state()
    assert "was rejected" in page.inner_text("#messages")

    doctor_page = new_page()
    log_in(doctor_page, applicant)
    doctor_page.goto("/doctor")
    assert "Verified" in doctor_page.inner_text("#verification-status")

    patient_page = new_page()
    log_in(patient_page, live_server.create_user("patient"))
    if patient_page.goto("/doctors").status == 200:  # the care loop's directory
        assert "Vic Verifiable" in patient_page.inner_text("main")
        assert "Rex Rejected" not in patient_page.inner_text("main")

    rejected_page = new_page()
    log_in(rejected_page, doubtful)
    rejected_page.goto("/doctor")
    assert reason in rejected_page.inner_text("#verification-status")


def test_users_audit_and_queue_pages(page, live_server):
    admin = live_server.create_user("admin")
    target = live_server.create_user("patient")
    log_in(page, admin)
    page.goto("/admin/")
    screenshot(page, "admin-overview")

    page.goto("/admin/users")
    page.fill("input[name=email]", target["email"])
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/users\?.*email="))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#user-{target['id']} button[data-action=deactivate]").click()
    page.wait_for_load_state()
    assert "deactivated" in page.inner_text(f"#user-{target['id']}")
    screenshot(page, "admin-users")

    page.goto("/admin/audit?action=user.deactivate")
    assert "user.deactivate" in page.inner_text("table.audit")
    assert f"user:{target['id']}" in page.inner_text("table.audit")
    screenshot(page, "admin-audit")
    page.click("text=check the chain")
    assert "The chain is intact" in page.inner_text("#chain-status")

    page.goto("/admin/queue")
    page.wait_for_selector("#queue-status")
    assert "e2e-worker" in page.inner_text("table.workers")
    screenshot(page, "admin-queue")


# --- Switching the default: a server with a second runnable plugin --------------------------

BUILD_SECOND_PLUGIN = """
import json, sys
from pathlib import Path
from app.plugins.builtin import BaselineCnn
folder = Path(sys.argv[1]) / "baseline-cnn" / "20260101T000000Z"
folder.mkdir(parents=True)
BaselineCnn(sys.argv[1]).build_model().save(folder / "model.keras")
(folder / "model_card.json").write_text(json.dumps({
    "training_data": "None: randomly initialised stand-in for the admin console's browser test"}))
"""


@pytest.fixture(scope="module")
def two_plugin_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin-live")
    models = tmp / "ml_models"
    subprocess.run([sys.executable, "-c", BUILD_SECOND_PLUGIN, str(models)], cwd=ROOT, check=True,
                   capture_output=True, timeout=180)
    with running_server(tmp, worker_name="admin-e2e-worker", ML_MODELS_DIR=str(models)) as server:
        yield server


def test_new_default_is_used_by_the_next_screening(browser, two_plugin_server, tmp_path):
    server = two_plugin_server
    admin_context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    patient_context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    try:
        page = admin_context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, server.create_user("admin"))
        page.goto("/admin/plugins")
        assert "Default" in _row(page, DEFAULT).inner_text()
        # A newly trained model waits for the admin: disabled, so it cannot be the default yet.
        assert "Disabled" in _row(page, SECOND).inner_text()
        assert _row(page, SECOND).locator("button[data-action=default]").is_disabled()
        _row(page, SECOND).locator("button[data-action=enable]").click()
        page.wait_for_selector(f"#plugin-{SECOND} >> text=Enabled")

        # It has no recorded test accuracy: making it the default asks first, saying so.
        _row(page, SECOND).locator("button[data-action=default]").click()
        page.wait_for_selector("#confirm-default")
        assert "has no recorded test accuracy" in page.inner_text("#confirm-default")
        assert "Default" in _row(page, DEFAULT).inner_text()
        screenshot(page, "admin-plugins-confirm-default")
        page.click("#confirm-default-button")
        page.wait_for_selector(f"#plugin-{SECOND} .pill-brand")
        assert _row(page, DEFAULT).locator("button[data-action=default]").is_enabled()

        # The patient's next screening records and uses it.
        patient = patient_context.new_page()
        patient.set_default_timeout(15_000)
        photo = tmp_path / "me.jpg"
        photo.write_bytes(samples.astronaut_jpeg())
        log_in(patient, server.create_user("patient"))
        consent_from_home(patient)
        patient.set_input_files("#media", str(photo))
        answer_phq9(patient, [1, 1, 0, 1, 0, 0, 1, 0, 0])
        patient.click("#submit-screening")
        patient.wait_for_url(re.compile(r".*/screenings/\d+$"))
        patient.wait_for_selector(f"a[href$='/screenings/model-card/{SECOND}']", timeout=RESULT_TIMEOUT)

        # Disable the current default: the pretrained plugin takes over, swapped in by htmx.
        _row(page, SECOND).locator("button[data-action=disable]").click()
        page.wait_for_selector(f"#plugin-{SECOND} >> text=Disabled")
        assert "Default" in _row(page, DEFAULT).inner_text()
        assert f"New screenings use {DEFAULT}" in page.inner_text("#plugin-list")
        screenshot(page, "admin-plugins-switched")
    finally:
        admin_context.close()
        patient_context.close()
