"""Foundation journeys in real Chromium."""

from tests.e2e.browser import enrol_second_factor, log_in, screenshot


def test_patient_registers_confirms_the_address_from_the_email_and_sees_home(page, live_server):
    requests_seen = []
    page.on("request", lambda request: requests_seen.append(request.url))
    page.goto("/auth/register")
    page.fill("input[name=full_name]", "Robin Browser")
    page.fill("input[name=email]", "robin@example.org")
    page.fill("input[name=password]", "a long enough passphrase")
    page.fill("input[name=confirm]", "a long enough passphrase")
    page.click("main button[type=submit]")
    page.wait_for_url("**/auth/register/sent")
    assert page.locator("h1").inner_text() == "Check your inbox"
    screenshot(page, "register-check-inbox")

    # Logged in but unconfirmed: a screening sends them to the page that explains what to do.
    log_in(page, {"email": "robin@example.org", "password": "a long enough passphrase"})
    page.wait_for_url("**/patient")
    page.goto("/screenings/new")
    page.wait_for_url("**/auth/confirm-email")
    assert "robin@example.org" in page.locator("#confirm-pending").inner_text()
    screenshot(page, "confirm-email-pending")

    page.goto(live_server.mail_link("robin@example.org", "/auth/confirm/"))
    page.click("#confirm-email")
    page.wait_for_url("**/patient")
    assert "your e-mail address is confirmed" in page.content()
    assert page.locator("h1").inner_text() == "Hello, Robin Browser"
    page.goto("/screenings/consent")
    assert "/auth/confirm-email" not in page.url

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
    page.wait_for_url("**/auth/register/sent")
    log_in(page, {"email": "casey@example.org", "password": "another long passphrase"})
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


def test_forgotten_password_through_the_emailed_link(new_page, live_server):
    patient = live_server.create_user("patient")
    other_device = new_page()
    log_in(other_device, patient)
    other_device.wait_for_url("**/patient")

    page = new_page()
    page.goto("/auth/login")
    page.click("#forgot-password-link")
    page.wait_for_url("**/auth/forgot")
    screenshot(page, "forgot-password")
    page.fill("input[name=email]", patient["email"])
    page.click("main button[type=submit]")
    page.wait_for_url("**/auth/login")
    assert "If an account uses that address" in page.content()

    link = live_server.mail_link(patient["email"], "/auth/reset/")
    page.goto(link)
    page.fill("input[name=password]", "my brand new passphrase")
    page.fill("input[name=confirm]", "my brand new passphrase")
    screenshot(page, "reset-password")
    page.click("main button[type=submit]")
    page.wait_for_url("**/auth/login")
    assert "Your new password is set" in page.content()

    # The other device's session ended; the link works once; the new password works.
    other_device.goto("/patient")
    assert "/auth/login" in other_device.url
    response = page.goto(link)
    assert response.status == 400 and "already been used" in page.content()
    log_in(page, {"email": patient["email"], "password": "my brand new passphrase"})
    page.wait_for_url("**/patient")
