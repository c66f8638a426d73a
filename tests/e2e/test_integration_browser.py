"""Hospital integration in real Chromium against gunicorn: a doctor signs in through a real
OpenID provider and reaches the inbox; a patient's data export holds a FHIR bundle that
validates; an admin issues an integration token that pulls Patient/$everything for a patient
shared with its doctor, and gets 404 for one who is not."""

from __future__ import annotations

import json
import zipfile

import pytest
import requests

from tests import factories
from tests.e2e.browser import log_in, running_server, screenshot
from tests.fhir_validation import validate_bundle
from tests.oidc.provider import SECRET, running_provider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sso")
    # A native (loopback) client: the provider accepts its redirect URI on any port.
    client = {"client_id": "moodlens-e2e", "client_secret": SECRET, "application_type": "native",
              "redirect_uris": ["http://127.0.0.1/sso/callback"],
              "post_logout_redirect_uris": ["http://127.0.0.1/auth/login"]}
    with running_provider(tmp, [client]) as provider:
        with running_server(tmp, worker_name="sso-e2e-worker", OIDC_ISSUER=provider.issuer,
                            OIDC_CLIENT_ID="moodlens-e2e", OIDC_CLIENT_SECRET=SECRET,
                            OIDC_PROVIDER_NAME="Test Hospital") as server:
            yield server, provider


def test_doctor_signs_in_through_the_hospital_and_reaches_the_inbox(browser, sso_server):
    server, provider = sso_server
    doctor = server.create_user("doctor", email="dana@hospital.example", name="Dana Doctor")
    provider.set_accounts({"dana.d": {"email": doctor["email"], "name": "Dana Doctor",
                                      "roles": ["doctor"], "amr": ["pwd", "otp"]}})
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto("/auth/login")
        screenshot(page, "sso-01-login-page")
        page.click("#sso-login")
        page.wait_for_url(provider.issuer + "/interaction/**")
        page.fill("#login", "dana.d")
        page.fill("#password", "correct horse")
        page.click("button[type=submit]")
        page.wait_for_url(server.url + "/doctor")  # the provider did MFA: no second MoodLens step
        page.goto("/consultations")
        assert page.locator("h1").first.is_visible()
        assert "/auth/" not in page.url
        screenshot(page, "sso-02-inbox")
        page.locator("details.nav-menu summary").click()  # on a phone, log out sits in the menu
        page.locator("form[action='/auth/logout'] button:visible").first.click()
        page.wait_for_url(provider.issuer + "/**")  # handed over to RP-initiated logout
    finally:
        context.close()


def _arrange_shared_record(live_server) -> dict:
    from tests.integration.access_world import build_world

    app = live_server.app()
    with app.app_context():
        world = build_world()
        admin = world.users["admin"]
        return {"admin": {"email": admin.email, "password": factories.PASSWORD,
                          "totp_secret": admin.totp_secret},
                "owner": {"id": world.users["owner"].id, "email": world.users["owner"].email,
                          "password": factories.PASSWORD},
                "other_id": world.users["other_patient"].id,
                "doctor_id": world.users["assigned_doctor"].id}


def test_patient_export_holds_a_fhir_bundle_that_validates(live_server, new_page):
    people = _arrange_shared_record(live_server)
    page = new_page()
    log_in(page, people["owner"])
    page.goto("/account")
    with page.expect_download(timeout=90_000) as download_info:  # renders the report PDF
        page.click("#download-data")
    archive = zipfile.ZipFile(download_info.value.path())
    found = validate_bundle(json.loads(archive.read("fhir-bundle.json")))
    assert {"Patient", "QuestionnaireResponse", "Observation", "Condition", "DiagnosticReport"} <= set(found)


def test_integration_token_pulls_everything_only_for_its_doctors_patients(live_server, new_page):
    people = _arrange_shared_record(live_server)
    page = new_page()
    log_in(page, people["admin"])
    page.goto("/admin/integrations")
    page.fill("#name", "Hospital EHR")
    page.select_option("#doctor_id", str(people["doctor_id"]))
    page.check("input[value='fhir:read']")
    page.click("main form.token-form button[type=submit]")
    secret = page.input_value("#token-secret")
    screenshot(page, "integrations-01-issued")
    headers = {"Authorization": f"Bearer {secret}"}
    shared = requests.get(f"{live_server.url}/fhir/Patient/{people['owner']['id']}/$everything",
                          headers=headers, timeout=60)
    assert shared.status_code == 200 and shared.headers["Content-Type"].startswith("application/fhir+json")
    assert "Patient" in validate_bundle(shared.json())
    other = requests.get(f"{live_server.url}/fhir/Patient/{people['other_id']}/$everything",
                         headers=headers, timeout=60)
    assert other.status_code == 404
    page.goto("/admin/integrations")
    row = page.locator("tr", has_text="Hospital EHR")
    assert row.locator("td:nth-of-type(6)").inner_text() != "never"  # last use is shown
    assert secret not in page.content()  # shown once
