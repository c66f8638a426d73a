"""Revocable server-side sessions, lockout-proof login throttling and a hardened second factor."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from app import embedded_redis
from app.extensions import db
from app.jobs.queue import get_redis
from app.models import AuditEvent, User
from app.services import mfa as mfa_service
from tests import factories
from tests.helpers import complete_mfa_setup, csrf_token, login


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    return thief


def post_login(client, email: str, password: str):
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "csrf_token": csrf_token(client)})


# --- Server-side sessions ------------------------------------------------------------------

def test_a_cookie_copied_before_logout_opens_nothing_afterwards(app, client, patient):
    login(client, patient)
    thief = copy_of(app, client)
    assert thief.get("/patient").status_code == 200
    assert thief.get("/api/v1/screenings/999").status_code == 404  # signed in: "no such screening"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/patient")})
    assert thief.get("/patient").headers["Location"].startswith("/auth/login")
    assert thief.get("/api/v1/screenings/999").status_code == 401


def test_the_cookie_holds_no_timestamps_or_second_factor_state(app, client, doctor):
    login(client, doctor)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert set(data) <= {"sid", "_user_id", "_fresh", "_id", "csrf_token", "after_login", "_flashes"}
    record = get_redis().hgetall(f"session:{data['sid']}")
    assert record[b"user"] == str(doctor.id).encode() and record[b"mfa"] == b"1"


def test_login_rotation_deletes_the_previous_server_side_session(app, client, doctor):
    client.post("/auth/login", data={"email": doctor.email, "password": factories.PASSWORD,
                                     "csrf_token": csrf_token(client)})
    before_second_factor = copy_of(app, client)
    client.post("/auth/mfa", data={"code": factories.totp_code(doctor),
                                   "csrf_token": csrf_token(client, "/auth/mfa")})
    assert client.get("/doctor").status_code == 200
    assert before_second_factor.get("/doctor").headers["Location"].startswith("/auth/login")


def test_a_session_store_outage_signs_clinicians_out(app_factory, tmp_path):
    """Patients without a second factor keep their session through an outage (see
    test_screening_web.py::test_redis_down_at_submit_keeps_it_pending_then_enqueues)."""
    redis_home = tmp_path / "private-redis"
    app = app_factory(REDIS_URL=embedded_redis.ensure_running(redis_home), RATELIMIT_ENABLED=False)
    client = app.test_client()
    try:
        with app.app_context():
            login(client, factories.doctor())
            assert client.get("/doctor").status_code == 200
            embedded_redis.shutdown(redis_home)
            response = client.get("/doctor")
            assert response.status_code == 503 and b"session store" in response.data
            embedded_redis.ensure_running(redis_home)
            assert client.get("/doctor").headers["Location"].startswith("/auth/login")
    finally:
        embedded_redis.shutdown(redis_home)


# --- Login throttling that cannot lock the owner out ----------------------------------------

def test_an_attacker_cannot_lock_the_owner_out_of_a_known_device(app, patient):
    owner = app.test_client()
    login(owner, patient)
    owner.post("/auth/logout", data={"csrf_token": csrf_token(owner, "/patient")})
    attacker = app.test_client()
    statuses = [post_login(attacker, patient.email, "wrong password!").status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    assert post_login(attacker, patient.email, factories.PASSWORD).status_code == 429
    # The owner's browser carries the device cookie from their last login: they get in.
    assert post_login(owner, patient.email, factories.PASSWORD).status_code == 302
    assert owner.get("/patient").status_code == 200


def test_a_known_device_has_its_own_budget_then_counts_as_unknown(app, patient):
    owner = app.test_client()
    login(owner, patient)
    owner.post("/auth/logout", data={"csrf_token": csrf_token(owner, "/patient")})
    statuses = [post_login(owner, patient.email, "wrong password!").status_code for _ in range(5)]
    assert statuses == [401] * 5
    # That device cookie is now locked; the next attempts count against unknown devices.
    assert [post_login(owner, patient.email, "wrong password!").status_code for _ in range(5)] == [401] * 5
    assert post_login(owner, patient.email, factories.PASSWORD).status_code == 429


def test_unknown_addresses_are_throttled_like_real_ones(client):
    statuses = [post_login(client, "nobody@example.org", "wrong password!").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_the_unknown_device_lock_ends(app_factory, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    app = app_factory(LOGIN_FAILURES_PER_ACCOUNT=2)
    with app.app_context():
        user, client = factories.patient(), app.test_client()
        statuses = [post_login(client, user.email, "wrong password!").status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
        get_redis().delete(*get_redis().keys("login-fail:account:*"))  # the window has passed
        assert post_login(client, user.email, factories.PASSWORD).status_code == 302


# --- Second factor ---------------------------------------------------------------------------

def _mfa(client, code: str):
    return client.post("/auth/mfa", data={"code": code, "csrf_token": csrf_token(client, "/auth/mfa")})


def test_a_totp_code_works_only_once(app, doctor):
    first, second = app.test_client(), app.test_client()
    code = pyotp.TOTP(doctor.totp_secret).now()
    post_login(first, doctor.email, factories.PASSWORD)
    post_login(second, doctor.email, factories.PASSWORD)
    assert _mfa(first, code).status_code == 302
    replay = _mfa(second, code)
    assert replay.status_code == 401 and b"each code works once" in replay.data
    assert second.get("/doctor").headers["Location"].endswith("/auth/mfa")


def test_an_older_code_is_refused_once_a_newer_one_was_used(app, doctor):
    totp = pyotp.TOTP(doctor.totp_secret)
    now = int(time.time())
    assert mfa_service.check_second_factor(doctor, totp.at(now + 30))
    assert not mfa_service.check_second_factor(doctor, totp.at(now))


def test_wrong_codes_lock_the_second_factor_for_a_while(app_factory, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    app = app_factory(MFA_MAX_FAILURES=3, MFA_LOCK_SECONDS=2)
    with app.app_context():
        doctor, client = factories.doctor(), app.test_client()
        post_login(client, doctor.email, factories.PASSWORD)
        statuses = [_mfa(client, "000000").status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        locked = _mfa(client, factories.totp_code(doctor))
        assert locked.status_code == 429 and b"Too many wrong codes" in locked.data
        assert 0 < mfa_service.locked_for(doctor) <= 2
        time.sleep(2.1)
        assert _mfa(client, factories.totp_code(doctor)).status_code == 302
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "mfa.locked" in actions


def test_lock_doubles_when_failures_continue(app_factory, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    app = app_factory(MFA_MAX_FAILURES=2, MFA_LOCK_SECONDS=10)
    with app.app_context():
        doctor = factories.doctor()
        for _ in range(2):
            mfa_service.check_second_factor(doctor, "000000")
        assert 5 < mfa_service.locked_for(doctor) <= 10
        get_redis().delete(f"mfa-lock:{doctor.id}")
        for _ in range(2):
            mfa_service.check_second_factor(doctor, "000000")
        assert 10 < mfa_service.locked_for(doctor) <= 20


def _setup_page(client):
    page = client.get("/auth/mfa/setup").get_data(as_text=True)
    import re

    return re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)


def test_replacing_the_second_factor_needs_the_password_or_a_current_code(app, client, doctor):
    login(client, doctor)
    new_secret = _setup_page(client)
    bare = client.post("/auth/mfa/setup", data={"code": pyotp.TOTP(new_secret).now(),
                                                "csrf_token": csrf_token(client, "/auth/mfa/setup")})
    assert bare.status_code == 400 and b"enter your password or a current code" in bare.data
    assert db.session.get(User, doctor.id).totp_secret != new_secret
    with_password = client.post("/auth/mfa/setup", data={
        "code": pyotp.TOTP(new_secret).now(), "current": factories.PASSWORD,
        "csrf_token": csrf_token(client, "/auth/mfa/setup")})
    assert with_password.status_code == 200 and b"recovery-codes" in with_password.data
    db.session.expire_all()
    assert db.session.get(User, doctor.id).totp_secret == new_secret
    assert "mfa.replace" in db.session.scalars(select(AuditEvent.action)).all()


def test_replacing_with_a_current_code_of_the_old_factor(app, client, doctor):
    login(client, doctor)
    old_code = factories.totp_code(doctor)
    new_secret = _setup_page(client)
    response = client.post("/auth/mfa/setup", data={
        "code": pyotp.TOTP(new_secret).now(), "current": old_code,
        "csrf_token": csrf_token(client, "/auth/mfa/setup")})
    assert response.status_code == 200 and b"recovery-codes" in response.data


def test_pending_secret_stays_on_the_server(app, client):
    user = factories.doctor(enrolled=False)
    post_login(client, user.email, factories.PASSWORD)
    secret = _setup_page(client)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    decoded = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert secret not in str(decoded)
    assert _setup_page(client) == secret  # the same secret while enrolment is pending
    complete_mfa_setup(client)
    assert get_redis().hget(f"session:{decoded['sid']}", "mfa_pending") is None


@pytest.mark.parametrize("reuse", [True, False])
def test_patient_deletion_code_is_single_use_too(app, reuse):
    patient = factories.with_second_factor(factories.patient())
    code = factories.totp_code(patient)
    assert mfa_service.check_second_factor(patient, code)
    second = code if reuse else factories.totp_code(patient)
    assert mfa_service.check_second_factor(patient, second) is (not reuse)
