"""Clinician second factor, idle timeout, absolute lifetime, rotation, logout everywhere."""

import time

import pyotp
import pytest

from app.extensions import db
from app.jobs.queue import get_redis
from app.models import User
from app.services import mfa as mfa_service
from tests import factories
from tests.helpers import complete_mfa_setup, csrf_token, login


def password_login(client, user):
    return client.post("/auth/login", data={"email": user.email, "password": factories.PASSWORD,
                                            "csrf_token": csrf_token(client)})


@pytest.mark.parametrize("role, home", [("doctor", "/doctor"), ("admin", "/admin/")])
def test_clinician_without_second_factor_must_enrol_first(client, role, home):
    user = getattr(factories, role)(enrolled=False)
    password_login(client, user)
    assert client.get(home).headers["Location"].endswith("/auth/mfa/setup")
    htmx = client.get(home, headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].endswith("/auth/mfa/setup")
    complete_mfa_setup(client)
    assert client.get(home).status_code == 200
    stored = db.session.get(User, user.id)
    assert stored.mfa_enabled and len(stored.recovery_code_hashes) == 10
    assert all(len(h) == 64 for h in stored.recovery_code_hashes)  # hashes, never the codes


def test_enrolment_with_a_wrong_code_is_refused(client):
    user = factories.doctor(enrolled=False)
    password_login(client, user)
    token = csrf_token(client, "/auth/mfa/setup")
    response = client.post("/auth/mfa/setup", data={"code": "000000", "csrf_token": token})
    assert response.status_code == 400 and b"does not match" in response.data
    assert not db.session.get(User, user.id).mfa_enabled


def test_login_asks_for_the_code_and_refuses_a_wrong_one(client, doctor):
    assert password_login(client, doctor).headers["Location"].endswith("/auth/mfa")
    assert client.get("/doctor").headers["Location"].endswith("/auth/mfa")
    wrong = client.post("/auth/mfa", data={"code": "123456", "csrf_token": csrf_token(client, "/auth/mfa")})
    assert wrong.status_code == 401 and b"not valid" in wrong.data
    right = client.post("/auth/mfa", data={"code": pyotp.TOTP(doctor.totp_secret).now(),
                                           "csrf_token": csrf_token(client, "/auth/mfa")})
    assert right.status_code == 302 and client.get("/doctor").status_code == 200


def test_recovery_codes_work_once(app, client):
    user = factories.doctor(enrolled=False)
    codes = mfa_service.confirm_enrollment(user, secret := pyotp.random_base32(),
                                           pyotp.TOTP(secret).now())
    assert mfa_service.check_second_factor(user, codes[0].upper())
    assert not mfa_service.check_second_factor(user, codes[0])
    assert len(db.session.get(User, user.id).recovery_code_hashes) == 9


def test_patients_are_not_asked_unless_they_opt_in(client, patient):
    login(client, patient)
    assert client.get("/patient").status_code == 200


def test_admin_reset_sends_clinician_back_to_enrolment_and_ends_sessions(client, doctor, admin):
    login(client, doctor)
    mfa_service.reset(doctor, by=admin)
    assert client.get("/doctor").status_code == 302  # old session no longer valid
    password_login(client, doctor)
    assert client.get("/doctor").headers["Location"].endswith("/auth/mfa/setup")


def _age_session(client, **seconds_ago):
    """Move the server-side session's timestamps back (the cookie holds none)."""
    with client.session_transaction() as session:
        sid = session["sid"]
    get_redis().hset(f"session:{sid}", mapping={key: time.time() - ago for key, ago in seconds_ago.items()})


def test_clinician_idle_timeout(client, doctor):
    login(client, doctor)
    _age_session(client, seen_at=14 * 60)
    assert client.get("/doctor").status_code == 200
    _age_session(client, seen_at=16 * 60)
    response = client.get("/doctor")
    assert response.headers["Location"].endswith("/auth/login")
    assert b"signed out after a period of inactivity" in client.get("/auth/login").data


def test_patient_idle_timeout_is_longer(client, patient):
    login(client, patient)
    _age_session(client, seen_at=20 * 60)
    assert client.get("/patient").status_code == 200


def test_absolute_session_lifetime(client, patient):
    login(client, patient)
    _age_session(client, login_at=13 * 3600)
    assert client.get("/patient").headers["Location"].endswith("/auth/login")


def test_login_rotates_the_session(client, patient):
    with client.session_transaction() as session:
        session["planted_by_attacker"] = "x"
    login(client, patient)
    with client.session_transaction() as session:
        assert "planted_by_attacker" not in session


def test_logout_everywhere_ends_other_sessions(app, patient):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, patient)
    login(phone, patient)
    assert phone.get("/patient").status_code == 200
    laptop.post("/auth/logout-everywhere", data={"csrf_token": csrf_token(laptop, "/patient")})
    assert phone.get("/patient").status_code == 302


def test_session_cookie_flags(client, patient):
    response = client.post("/auth/login", data={"email": patient.email, "password": factories.PASSWORD,
                                                "csrf_token": csrf_token(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE


def test_patient_can_opt_in_and_is_then_asked_at_login(client, patient):
    login(client, patient)
    assert b'id="mfa-setup-link"' in client.get("/patient").data
    complete_mfa_setup(client)
    assert b"Two-step login is on." in client.get("/patient").data
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/patient")})
    assert password_login(client, patient).headers["Location"].endswith("/auth/mfa")
    assert client.get("/patient").headers["Location"].endswith("/auth/mfa")
