"""Sign-up with a confirmed address, forgotten and changed passwords: through the real pages, a
real RQ worker and the .eml files the mailer writes when no SMTP server is set."""

from __future__ import annotations

import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import get_queue, get_redis
from app.jobs.worker import MoodLensWorker
from app.models import AuditEvent, User
from app.storage import mailer
from tests import factories
from tests.helpers import csrf_token, login

LINK = re.compile(r"https?://\S+")
CLINICAL = re.compile(r"phq|screening result|severe|moderate|depress|diagnos|self-harm|urgent", re.I)
SIGN_UP = {"full_name": "Jo Example", "password": "a long enough passphrase",
           "confirm": "a long enough passphrase"}


def run_worker(app) -> None:
    MoodLensWorker([get_queue()], connection=get_redis(), app=app).work(burst=True, with_scheduler=False)


def mails_to(address: str) -> list:
    folder = mailer.mail_dir()
    found = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["To"] == address:
            found.append(message)
    return found


def link_in(message) -> str:
    return LINK.findall(message.get_content())[0]


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def sign_up(client, email: str):
    return client.post("/auth/register", data={**SIGN_UP, "email": email,
                                               "csrf_token": csrf_token(client, "/auth/register")})


def test_sign_up_answers_the_same_for_a_taken_address_and_mails_its_owner(app, client):
    owner = factories.patient(email="taken@example.org")
    new = sign_up(client, "new@example.org")
    taken = sign_up(client, "Taken@example.org")
    assert (new.status_code, new.headers["Location"]) == (taken.status_code, taken.headers["Location"])
    assert new.headers["Location"].endswith("/auth/register/sent")
    # Timing: a taken address costs a password hash too (argon2 dominates both answers).
    durations = {}
    for label, address in (("new", "another@example.org"), ("taken", "taken@example.org")):
        started = time.perf_counter()
        sign_up(client, address)
        durations[label] = time.perf_counter() - started
    assert durations["taken"] > durations["new"] / 3, durations
    run_worker(app)
    notice = mails_to(owner.email)
    assert len(notice) == 2 and "tried to register" in notice[0]["Subject"]
    assert "/auth/forgot" in notice[0].get_content()
    confirmation = mails_to("new@example.org")
    assert len(confirmation) == 1 and "/auth/confirm/" in link_in(confirmation[0])
    for message in notice + confirmation:
        assert not CLINICAL.search(message.get_content()), message.get_content()


def test_sign_up_is_rate_limited_per_address(app_factory, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    app = app_factory(ACCOUNT_EMAIL_RATE_LIMIT="3 per hour")
    with app.app_context():
        client = app.test_client()
        statuses = [sign_up(client, f"u{i}@example.org").status_code for i in range(4)]
        assert statuses == [302, 302, 302, 429]
        forgot = client.post("/auth/forgot", data={"email": "x@example.org",
                                                   "csrf_token": csrf_token(client, "/auth/forgot")})
        assert forgot.status_code == 429  # one budget for every request that sends e-mail


def test_unconfirmed_account_must_confirm_before_screening_or_contacting_a_doctor(app, client):
    sign_up(client, "jo@example.org")
    user = db.session.scalar(select(User).where(User.email == "jo@example.org"))
    login(client, user)
    assert client.get("/patient").status_code == 200
    for path in ("/screenings/new", "/screenings/consent", "/consultations/new"):
        response = client.get(path)
        assert response.headers["Location"].endswith("/auth/confirm-email"), path
    page = client.get("/auth/confirm-email").get_data(as_text=True)
    assert "Confirm your e-mail address" in page and "jo@example.org" in page
    htmx = client.get("/screenings/new", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].endswith("/auth/confirm-email")

    # Resend: a second link; either one works (the first is not invalidated by the second).
    client.post("/auth/confirm-email", data={"csrf_token": csrf_token(client, "/auth/confirm-email")})
    run_worker(app)
    links = [link_in(m) for m in mails_to("jo@example.org")]
    assert len(links) == 2
    opened = client.get(path_of(links[-1]))
    assert opened.status_code == 200 and b"Confirm my address" in opened.data
    db.session.refresh(user)
    assert user.email_verified_at is None  # opening the link (e.g. a mail scanner) changes nothing
    confirmed = client.post(path_of(links[-1]), data={"csrf_token": csrf_token(client, path_of(links[-1]))})
    assert confirmed.status_code == 302
    db.session.refresh(user)
    assert user.email_verified_at is not None
    assert client.get("/screenings/consent").status_code == 200
    assert "account.email_confirmed" in db.session.scalars(select(AuditEvent.action)).all()


def test_confirmation_link_expiry_and_tampering_are_explained(app_factory, redis_url):
    app = app_factory(EMAIL_VERIFY_HOURS=0)
    with app.app_context():
        from app.services import accounts

        user = factories.patient(verified=False)
        client = app.test_client()
        token = accounts.confirmation_token(user)
        time.sleep(1.1)
        expired = client.get(f"/auth/confirm/{token}")
        assert expired.status_code == 400 and b"This link has expired" in expired.data
        broken = client.get(f"/auth/confirm/{token[:-3]}xyz")
        assert broken.status_code == 400 and b"This link is not valid" in broken.data


def _request_reset(client, address: str):
    return client.post("/auth/forgot", data={"email": address,
                                             "csrf_token": csrf_token(client, "/auth/forgot")})


def test_forgot_password_answers_the_same_and_mails_only_real_accounts(app, client, patient):
    known, unknown = _request_reset(client, patient.email), _request_reset(client, "nobody@example.org")
    assert (known.status_code, known.headers["Location"]) == \
        (unknown.status_code, unknown.headers["Location"])
    assert b'id="forgot-password-link"' in client.get("/auth/login").data
    run_worker(app)
    assert mails_to("nobody@example.org") == []
    (message,) = mails_to(patient.email)
    assert "/auth/reset/" in link_in(message) and not CLINICAL.search(message.get_content())


def test_password_reset_is_single_use_ends_every_session_and_is_audited(app, patient):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, patient)
    assert laptop.get("/patient").status_code == 200
    _request_reset(phone, patient.email)
    run_worker(app)
    reset = path_of(link_in(mails_to(patient.email)[0]))
    assert phone.get(reset).status_code == 200
    mismatch = phone.post(reset, data={"password": "brand new passphrase", "confirm": "something else",
                                       "csrf_token": csrf_token(phone, reset)})
    assert mismatch.status_code == 400 and b"do not match" in mismatch.data
    done = phone.post(reset, data={"password": "brand new passphrase", "confirm": "brand new passphrase",
                                   "csrf_token": csrf_token(phone, reset)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/login")
    assert laptop.get("/patient").headers["Location"].startswith("/auth/login")  # session ended
    again = phone.get(reset)
    assert again.status_code == 400 and b"already been used" in again.data
    login(phone, patient, password="brand new passphrase")
    assert "auth.password_reset" in db.session.scalars(select(AuditEvent.action)).all()


def test_a_reset_lifts_the_unknown_device_lock(app, client, patient):
    stranger = app.test_client()
    for _ in range(5):
        stranger.post("/auth/login", data={"email": patient.email, "password": "wrong password!",
                                           "csrf_token": csrf_token(stranger)})
    locked = client.post("/auth/login", data={"email": patient.email, "password": factories.PASSWORD,
                                              "csrf_token": csrf_token(client)})
    assert locked.status_code == 429
    _request_reset(client, patient.email)
    run_worker(app)
    reset = path_of(link_in(mails_to(patient.email)[0]))
    client.post(reset, data={"password": "brand new passphrase", "confirm": "brand new passphrase",
                             "csrf_token": csrf_token(client, reset)})
    login(client, patient, password="brand new passphrase")


def test_reset_link_expires_after_its_minutes(app_factory, redis_url):
    app = app_factory(PASSWORD_RESET_MINUTES=0)
    with app.app_context():
        from app.services import accounts

        user = factories.patient()
        token = accounts.password_reset_token(user)
        time.sleep(1.1)
        response = app.test_client().get(f"/auth/reset/{token}")
        assert response.status_code == 400 and b"expired" in response.data


def test_clinician_still_needs_the_second_factor_after_a_reset(app, client, doctor):
    _request_reset(client, doctor.email)
    run_worker(app)
    reset = path_of(link_in(mails_to(doctor.email)[0]))
    client.post(reset, data={"password": "brand new passphrase", "confirm": "brand new passphrase",
                             "csrf_token": csrf_token(client, reset)})
    response = client.post("/auth/login", data={"email": doctor.email, "password": "brand new passphrase",
                                                "csrf_token": csrf_token(client)})
    assert response.headers["Location"].endswith("/auth/mfa")
    assert client.get("/doctor").headers["Location"].endswith("/auth/mfa")
    assert db.session.get(User, doctor.id).mfa_enabled


def test_password_change_needs_the_current_one_and_ends_other_sessions(app, patient):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, patient)
    login(phone, patient)
    wrong = laptop.post("/auth/password", data={
        "current": "not my password", "password": "brand new passphrase", "confirm": "brand new passphrase",
        "csrf_token": csrf_token(laptop, "/auth/password")})
    assert wrong.status_code == 400 and b"not your current password" in wrong.data
    changed = laptop.post("/auth/password", data={
        "current": factories.PASSWORD, "password": "brand new passphrase", "confirm": "brand new passphrase",
        "csrf_token": csrf_token(laptop, "/auth/password")})
    assert changed.status_code == 302
    assert laptop.get("/patient").status_code == 200  # this browser continues in a fresh session
    assert phone.get("/patient").headers["Location"].startswith("/auth/login")
    assert "auth.password_change" in db.session.scalars(select(AuditEvent.action)).all()


def test_operators_and_demo_make_confirmed_accounts(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "ops@example.org"],
                           input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    users = db.session.scalars(select(User)).all()
    assert len(users) == 4 and all(user.email_verified_at is not None for user in users)


@pytest.mark.parametrize("kind", ["patient", "doctor"])
def test_factories_make_confirmed_accounts_by_default(app, kind):
    assert getattr(factories, kind)().email_verified_at is not None


def test_mail_folder_is_private(app, patient):
    _request_reset(app.test_client(), patient.email)
    run_worker(app)
    folder = Path(current_app.instance_path) / "mail"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in folder.glob("*.eml"))
