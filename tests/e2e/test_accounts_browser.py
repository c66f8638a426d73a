"""Foundation journeys in real Chromium."""

from tests.e2e.conftest import enrol_second_factor, log_in, screenshot


def test_patient_registers_logs_in_and_sees_home(page, live_server):
    requests_seen = []
    page.on("request", lambda request: requests_seen.append(request.url))
    page.goto("/auth/register")
    page.fill("input[name=full_name]", "Robin Browser")
    page.fill("input[name=email]", "robin@example.org")
    page.fill("input[name=password]", "a long enough passphrase")
    page.fill("input[name=confirm]", "a long enough passphrase")
    page.click("main button[type=submit]")
    page.wait_for_url("**/patient")
    assert page.locator("h1").inner_text() == "Hello, Robin Browser"

    page.click("text=Log out")
    page.wait_for_url("**/auth/login")
    log_in(page, {"email": "robin@example.org", "password": "a long enough passphrase"})
    page.wait_for_url("**/patient")
    screenshot(page, "patient-home")

    # htmx came from our own vendor folder, and nothing was fetched from another origin.
    assert any(url.endswith("/static/vendor/htmx.min.js") for url in requests_seen)
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("htmx.version").startswith("2.")
    assert all(url.startswith(live_server.url) for url in requests_seen), requests_seen


def test_new_doctor_sees_awaiting_verification(page):
    page.goto("/auth/register/doctor")
    for name, value in {"full_name": "Casey Clinician", "email": "casey@example.org",
                        "licence_number": "GMC-1234567", "specialty": "Psychiatry",
                        "languages": "en, fr", "password": "another long passphrase",
                        "confirm": "another long passphrase"}.items():
        page.fill(f"input[name={name}]", value)
    page.click("main button[type=submit]")
    enrol_second_factor(page)
    screenshot(page, "doctor-recovery-codes")
    page.click("text=I have saved them")
    page.wait_for_url("**/doctor")
    assert "Awaiting verification" in page.locator("#verification-status").inner_text()
    screenshot(page, "doctor-awaiting-verification")


def test_wrong_role_sees_clear_403_page(page, live_server):
    patient = live_server.create_user("patient")
    log_in(page, patient)
    response = page.goto("/admin/")
    assert response.status == 403
    assert "not available for your account type" in page.content()
