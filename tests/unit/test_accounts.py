"""Registration, login, roles and the bad input around them."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Role, User
from app.security.policy import can_see_patients
from tests import factories
from tests.helpers import complete_mfa_setup, csrf_token, login

GOOD = {"full_name": "Jo Example", "email": "jo@example.org",
        "password": "a long enough passphrase", "confirm": "a long enough passphrase"}


def register(client, **changes):
    data = {**GOOD, **changes, "csrf_token": csrf_token(client, "/auth/register")}
    return client.post("/auth/register", data=data)


def test_patient_registration_creates_hashed_unconfirmed_account(client):
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/register/sent")
    assert b"Check your inbox" in client.get("/auth/register/sent").data
    user = db.session.scalar(select(User).where(User.email == "jo@example.org"))
    assert user.role is Role.PATIENT and user.patient_profile.full_name == "Jo Example"
    assert user.password_hash.startswith("$argon2id$")
    assert user.email_verified_at is None
    login(client, user)
    assert b"Hello, Jo Example" in client.get("/patient").data


@pytest.mark.parametrize("changes, message", [
    ({"email": "not-an-email"}, b"Enter a valid e-mail address."),
    ({"password": "short", "confirm": "short"}, b"Use at least 12 characters"),
    ({"confirm": "something else entirely"}, b"The two passwords do not match."),
    ({"full_name": ""}, b"This field is required."),
])
def test_registration_rejects_bad_input_with_clear_message(client, changes, message):
    response = register(client, **changes)
    assert response.status_code == 400
    assert message in response.data
    assert db.session.scalar(select(User)) is None


def test_duplicate_email_gets_the_same_answer_and_no_second_account(client):
    first = register(client)
    second = register(client, email="JO@example.org", full_name="Someone Else")
    assert (second.status_code, second.headers["Location"]) == (first.status_code, first.headers["Location"])
    assert len(db.session.scalars(select(User)).all()) == 1


def test_missing_csrf_token_is_400_with_message(client):
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 400
    assert b"Your form expired or did not come from this site" in response.data


def test_doctor_registration_is_pending_and_sees_no_patients(client):
    data = {**GOOD, "email": "doc@example.org", "licence_number": "LIC-1", "specialty": "Psychiatry",
            "languages": "EN, fr", "csrf_token": csrf_token(client, "/auth/register/doctor")}
    response = client.post("/auth/register/doctor", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/register/sent")
    doctor = db.session.scalar(select(User).where(User.email == "doc@example.org"))
    client.post("/auth/login", data={"email": doctor.email, "password": GOOD["password"],
                                     "csrf_token": csrf_token(client)})
    # Clinicians enrol a second factor before any doctor page.
    assert client.get("/doctor").headers["Location"].endswith("/auth/mfa/setup")
    complete_mfa_setup(client)
    page = client.get("/doctor").get_data(as_text=True)
    assert "Awaiting verification" in page
    doctor = db.session.scalar(select(User).where(User.email == "doc@example.org"))
    assert doctor.doctor_profile.language_list == ["en", "fr"]
    assert not can_see_patients(doctor)


def test_login_success_wrong_password_and_audit(client, patient):
    token = csrf_token(client)
    bad = client.post("/auth/login", data={"email": patient.email, "password": "wrong password!",
                                           "csrf_token": token})
    assert bad.status_code == 401
    assert b"do not match an active account" in bad.data
    login(client, patient)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["auth.login_failed", "auth.login"]
    assert db.session.get(User, patient.id).last_login_at is not None


def test_deactivated_account_cannot_log_in_or_keep_its_session(client, patient):
    login(client, patient)
    patient.active = False
    db.session.commit()
    assert client.get("/patient").status_code == 302  # session no longer accepted
    token = csrf_token(client)
    response = client.post("/auth/login", data={"email": patient.email, "password": factories.PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 401


def test_login_failures_from_unknown_devices_are_limited_per_account(client, patient):
    token = csrf_token(client)
    statuses = [client.post("/auth/login", data={"email": patient.email, "password": "wrong password!",
                                                 "csrf_token": token}).status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    response = client.post("/auth/login", data={"email": patient.email, "password": factories.PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 429 and b"from a device you used before" in response.data


def test_login_is_rate_limited_per_ip(app_factory, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    app = app_factory(LOGIN_RATE_LIMIT_PER_IP="3 per minute")
    client = app.test_client()
    with app.app_context():
        token = csrf_token(client)
        statuses = [client.post("/auth/login", data={"email": f"user{i}@example.org",
                                                     "password": "whatever it is", "csrf_token": token}
                                ).status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize("target", [
    "//evil.example/", "/%09/evil.example", "/%0d%0a/evil.example", "/%0a/evil.example",
    "/%5Cevil.example", "/\\/evil.example", "https://evil.example/", "/%20/evil.example",
    "%2F%2Fevil.example", "/%09%09/evil.example/path",
])
def test_open_redirect_after_login_is_refused(client, patient, target):
    token = csrf_token(client)
    response = client.post(f"/auth/login?next={target}", data={
        "email": patient.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_same_site_next_survives_login_and_second_factor(client, doctor):
    token = csrf_token(client)
    response = client.post("/auth/login?next=/consultations%3Fx%3D1", data={
        "email": doctor.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/auth/mfa")
    response = client.post("/auth/mfa", data={"code": factories.totp_code(doctor),
                                              "csrf_token": csrf_token(client, "/auth/mfa")})
    assert response.headers["Location"] == "/consultations?x=1"


@pytest.mark.parametrize("role, expected", [("patient", 403), ("doctor", 403), ("admin", 200)])
def test_admin_home_requires_admin_role(client, role, expected):
    user = getattr(factories, role)()
    login(client, user)
    response = client.get("/admin/")
    assert response.status_code == expected
    if expected == 403:
        assert b"not available for your account type" in response.data


def test_anonymous_is_sent_to_login(client):
    response = client.get("/patient")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
