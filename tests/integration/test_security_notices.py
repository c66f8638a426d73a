"""The security notice: after a password change or reset, a second factor reset (by an admin or
through the service) or replaced, the account's owner gets an e-mail in their language saying
what changed and when, and what to do if it was not them; never anything clinical. Through the
real pages and a real RQ worker, read back from the .eml files the mailer writes."""

from __future__ import annotations

import pyotp

from app.extensions import db
from app.jobs.queue import get_queue
from app.services import admin_users, consultations
from app.services import mfa as mfa_service
from tests import factories
from tests.helpers import client_for, csrf_token
from tests.integration.test_account_lifecycle import CLINICAL, mails_to, run_worker

NEW_PASSWORD = "brand new passphrase"


NOTICES = {"MoodLens: your password was changed", "MoodLens: your second factor was reset",
           "MoodLens: your second factor was replaced", "MoodLens: se cambió su contraseña"}


def _notices(address: str) -> list:
    return [message for message in mails_to(address) if message["Subject"] in NOTICES]


def _change_password(client) -> None:
    response = client.post("/auth/password", data={
        "current": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(client, "/auth/password")})
    assert response.status_code == 302


def test_a_changed_password_is_told_to_the_owner_without_anything_clinical(app, patient, doctor):
    patient.timezone = "America/New_York"
    db.session.commit()
    screening = factories.screening(patient, total=22, item9=2)  # severe, with thoughts of self-harm
    consultations.accept(doctor, consultations.request_consultation(patient, doctor.id, [screening.id], ""))
    _change_password(client_for(app, patient))
    assert _notices(patient.email) == []  # sent by the worker, never from the request
    run_worker(app)
    (notice,) = _notices(patient.email)
    text = notice.get_content()
    assert notice["Subject"] == "MoodLens: your password was changed"
    assert "The password of your MoodLens account was changed on " in text and "(America/New_York)" in text
    assert "If it was not you" in text and "/auth/forgot" in text
    assert not CLINICAL.search(text), text
    assert _notices(doctor.email) == []


def test_a_reset_through_the_e_mailed_link_is_told_in_spanish(app, client, patient):
    patient.locale = "es"
    db.session.commit()
    client.post("/auth/forgot", data={"email": patient.email,
                                      "csrf_token": csrf_token(client, "/auth/forgot")})
    run_worker(app)
    link = next(line for line in mails_to(patient.email)[0].get_content().split() if "/auth/reset/" in line)
    reset = "/" + link.split("/", 3)[3]
    client.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                             "csrf_token": csrf_token(client, reset)})
    run_worker(app)
    (notice,) = _notices(patient.email)
    assert notice["Content-Language"] == "es"
    assert notice["Subject"] == "MoodLens: se cambió su contraseña"
    assert "Si no fue usted" in notice.get_content()


def test_an_admin_s_reset_of_the_second_factor_is_told_to_the_clinician(app, doctor, admin):
    admin_users.reset_second_factor(doctor.id, admin)
    run_worker(app)
    (notice,) = _notices(doctor.email)
    assert notice["Subject"] == "MoodLens: your second factor was reset"
    assert "was removed on" in notice.get_content()
    assert _notices(admin.email) == []


def test_a_second_factor_reset_or_replaced_through_the_service_is_told(app, doctor, admin):
    mfa_service.reset(doctor, by=admin)
    secret = pyotp.random_base32()
    mfa_service.confirm_enrollment(doctor, secret, pyotp.TOTP(secret).now())  # a first enrolment: no notice
    newer = pyotp.random_base32()
    mfa_service.confirm_enrollment(doctor, newer, pyotp.TOTP(newer).now(), proof=factories.PASSWORD)
    run_worker(app)
    subjects = sorted(notice["Subject"] for notice in _notices(doctor.email))
    assert subjects == ["MoodLens: your second factor was replaced", "MoodLens: your second factor was reset"]


def test_an_unconfirmed_address_gets_no_notice(app):
    unconfirmed = factories.patient(verified=False)
    _change_password(client_for(app, unconfirmed))
    assert any(job.func_name.endswith("send_security_notice") for job in get_queue().jobs)
    run_worker(app)
    assert _notices(unconfirmed.email) == []
