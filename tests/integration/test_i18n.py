"""The Spanish edition: who gets which language, where the footer switch may send people back
to, e-mails and the PDF in the reader's language, the validated Spanish PHQ-9 on the form, and
times shown in the reader's own time zone."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import render_template, render_template_string
from flask_login import login_user

from app.extensions import db
from app.jobs import account_mail, analysis
from app.jobs import notifications as notification_jobs
from app.models.screening import Screening
from app.models.user import User
from app.services import consent, consultations, notifications, reports
from tests import factories
from tests.helpers import client_for, csrf_token, readable_pdf

SPANISH_STEM = ("Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes "
                "problemas?")


def _html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def _speaking(user: User, language: str | None = None, timezone: str | None = None) -> User:
    user.locale, user.timezone = language, timezone
    db.session.commit()
    return user


@contextmanager
def _request(app, **headers):
    """A request of its own: Flask-Babel keeps the chosen language and zone on `g`, which the
    `app` fixture's long-lived app context would otherwise share between requests."""
    with app.app_context(), app.test_request_context(headers=headers):
        yield


def _mail(path: str):
    return BytesParser(policy=policy.default).parsebytes(Path(path).read_bytes())


# --- which language ---------------------------------------------------------------------------

def test_accept_language_spanish_gets_the_spanish_page(client):
    response = client.get("/auth/login", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and _html_lang(response) == "es"
    assert "Correo electrónico" in page and "Contraseña" in page  # the form's labels
    english = client.get("/auth/login", headers={"Accept-Language": "en-GB"})
    assert _html_lang(english) == "en" and "Password" in english.get_data(as_text=True)


def test_an_unoffered_language_falls_back_to_english(client):
    response = client.get("/auth/login", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert _html_lang(response) == "en"


def test_the_account_language_beats_the_browser(app, patient):
    _speaking(patient, "es")
    client = client_for(app, patient)
    page = client.get("/screenings/consent", headers={"Accept-Language": "en"})
    assert _html_lang(page) == "es"
    assert "Evaluaciones" in page.get_data(as_text=True)  # the navigation, set in Python


def test_the_footer_switch_sets_the_cookie_and_goes_back(client):
    response = client.post("/language", data={"lang": "es", "next": "/auth/register?x=1",
                                              "csrf_token": csrf_token(client)})
    assert response.status_code == 303 and response.headers["Location"] == "/auth/register?x=1"
    assert "lang=es" in response.headers["Set-Cookie"]
    assert _html_lang(client.get("/auth/login", headers={"Accept-Language": "en"})) == "es"
    # A plain link works too (no form, cookie only).
    link = client.get("/language?lang=en&next=/auth/login")
    assert link.status_code == 303 and link.headers["Location"] == "/auth/login"
    assert _html_lang(client.get("/auth/login", headers={"Accept-Language": "es"})) == "en"


def test_the_footer_switch_is_no_open_redirect(client):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example",
                   "javascript:alert(1)", ""):
        response = client.get("/language", query_string={"lang": "es", "next": target})
        assert response.status_code == 303, target
        assert response.headers["Location"] == "/", target


def test_the_footer_switch_refuses_unknown_languages_and_forged_posts(client):
    assert client.get("/language?lang=xx&next=/").status_code == 400
    assert client.post("/language", data={"lang": "es", "next": "/"}).status_code == 400  # no CSRF token


def test_a_signed_in_switch_is_stored_on_the_account(app, patient):
    client = client_for(app, patient)
    response = client.post("/language", data={"lang": "es", "next": "/screenings/consent",
                                              "csrf_token": csrf_token(client, "/screenings/consent")})
    assert response.status_code == 303
    assert db.session.get(User, patient.id).locale == "es"


# --- e-mails in the recipient's language ------------------------------------------------------

def test_a_spanish_users_emails_are_spanish_from_the_worker(app):
    user = _speaking(factories.patient(verified=False), "es")
    message = _mail(account_mail.send_confirmation(user.id))  # as the worker runs it: no request
    assert message["Content-Language"] == "es"
    assert message["Subject"] == "MoodLens: confirme su dirección de correo"
    assert "Confirme que esta es su dirección de correo para MoodLens" in message.get_content()
    english = _mail(account_mail.send_confirmation(factories.patient(verified=False).id))
    assert english["Content-Language"] == "en" and "Please confirm" in english.get_content()


def test_signing_up_in_spanish_keeps_spanish_for_the_account(client):
    client.post("/auth/register", headers={"Accept-Language": "es"}, data={
        "email": "nueva@example.org", "full_name": "Ana Nueva", "password": factories.PASSWORD,
        "confirm": factories.PASSWORD, "csrf_token": csrf_token(client, "/auth/register")})
    user = db.session.scalar(db.select(User).where(User.email == "nueva@example.org"))
    assert user is not None and user.locale == "es"


def test_a_notification_speaks_its_recipients_language(app, patient, doctor):
    _speaking(patient, "es")
    consent.grant(patient)
    screening = factories.screening(patient, total=6)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)  # the doctor (English) acts; the patient is told
    (notice,) = notifications.recent(patient)
    assert notice.text == "Un médico aceptó su solicitud de consulta"
    message = _mail(notification_jobs.send_notification_email(notice.id))
    assert message["Content-Language"] == "es"
    assert message["Subject"] == "MoodLens: Un médico aceptó su solicitud de consulta"
    assert "Inicie sesión para leerlo" in message.get_content()
    (doctors_notice,) = notifications.recent(doctor)
    assert doctors_notice.text == "A new consultation request is waiting for you"


def test_a_failed_analysis_is_explained_in_the_patients_language(app, patient):
    screening = factories.screening(_speaking(patient, "es"), total=3)
    analysis.mark_failed(screening, "The analysis took too long. You can retry it.")
    failed = db.session.get(Screening, screening.id)
    assert failed.failure_reason == "El análisis tardó demasiado. Puede reintentarlo."
    assert failed.stage == "El análisis falló"


# --- the PDF and the PHQ-9 --------------------------------------------------------------------

def test_the_report_pdf_in_spanish_says_so(app, patient, doctor):
    consultation = factories.consultation(patient, doctor)
    factories.diagnosis(doctor, consultation, severity="moderate")
    report = reports.create(doctor, consultation)
    with _request(app, **{"Accept-Language": "es"}):
        html = render_template("reports/report_pdf.html", **reports.content(report))
        pdf = readable_pdf(reports.render_pdf(html, base_url="http://localhost/"))
    assert b"/Lang (es)" in pdf
    assert "Psicoterapia" in html  # the plan, named in Python
    with _request(app, **{"Accept-Language": "en"}):
        english = readable_pdf(reports.render_pdf(
            render_template("reports/report_pdf.html", **reports.content(report)), base_url="http://localhost/"))
    assert b"/Lang (en)" in english


def test_the_screening_form_has_the_validated_spanish_phq9(app, patient):
    consent.grant(_speaking(patient, "es"))
    page = client_for(app, patient).get("/screenings/new").get_data(as_text=True)
    assert SPANISH_STEM in page
    for wording in ("Poco interés o placer en hacer cosas",
                    "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
                    "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
                    "Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días",
                    "No ha sido difícil", "Extremadamente difícil"):
        assert wording in page, wording
    assert "Little interest or pleasure" not in page


def test_a_missing_answer_is_named_in_spanish(app, patient):
    consent.grant(_speaking(patient, "es"))
    client = client_for(app, patient)
    data = {"csrf_token": csrf_token(client, "/screenings/consent"), "include": "questionnaire",
            **{f"q{n}": "0" for n in range(1, 9)}}  # q9 left out
    response = client.post("/screenings/new", data=data)
    assert response.status_code == 422
    assert "a la pregunta 9 le falta la respuesta" in response.get_data(as_text=True)


# --- time zones --------------------------------------------------------------------------------

NOON_UTC = datetime(2026, 1, 15, 12, 0)


def test_times_show_in_the_browsers_zone_and_language(app):
    template = "{{ when|localtime }} | {{ when|localdate }} | {{ day|localdate }}"
    with _request(app, Cookie="tz=America/New_York"):
        shown = render_template_string(template, when=NOON_UTC, day=NOON_UTC.date())
    assert shown == "Jan 15, 2026, 7:00\u202fAM | Jan 15, 2026 | Jan 15, 2026"
    with _request(app, Cookie="tz=Asia/Tokyo; lang=es"):
        shown = render_template_string(template, when=datetime(2026, 1, 15, 20, 0), day=NOON_UTC.date())
    # 20:00 UTC is already the 16th in Tokyo; a plain date is never shifted.
    assert shown == "16 ene 2026, 5:00 | 16 ene 2026 | 15 ene 2026"
    # To the minute: seconds only where a page asks for them (the audit trail).
    with _request(app, Cookie="tz=Asia/Tokyo; lang=es"):
        shown = render_template_string("{{ when|localtime(seconds=True) }}",
                                       when=datetime(2026, 1, 15, 20, 0, 7))
    assert shown == "16 ene 2026, 5:00:07"


def test_an_unknown_zone_cookie_is_utc(app):
    with _request(app, Cookie="tz=Mars/Olympus_Mons"):
        shown = render_template_string("{{ when|localtime }}", when=NOON_UTC)
    assert shown == "Jan 15, 2026, 12:00\u202fPM"


def test_the_accounts_zone_beats_the_browsers(app, patient):
    _speaking(patient, timezone="America/New_York")
    with _request(app, Cookie="tz=Asia/Tokyo"):
        login_user(db.session.get(User, patient.id))
        shown = render_template_string("{{ when|localtime }}", when=NOON_UTC)
    assert shown == "Jan 15, 2026, 7:00\u202fAM"


def test_the_browser_zone_is_stored_once_and_only_when_valid(app, patient):
    client = client_for(app, patient)
    token = csrf_token(client, "/screenings/consent")
    assert client.post("/preferences/timezone", data={"timezone": "Mars/Olympus_Mons",
                                                      "csrf_token": token}).status_code == 204
    assert db.session.get(User, patient.id).timezone is None
    assert client.post("/preferences/timezone", data={"timezone": "America/New_York",
                                                      "csrf_token": token}).status_code == 204
    assert db.session.get(User, patient.id).timezone == "America/New_York"
    client.post("/preferences/timezone", data={"timezone": "Europe/Madrid", "csrf_token": token})
    assert db.session.get(User, patient.id).timezone == "America/New_York"  # a chosen zone stays
    assert client.post("/preferences/timezone", data={"timezone": "Europe/Madrid"}).status_code == 400


def test_the_account_page_saves_language_and_zone_and_refuses_an_unknown_zone(app, patient):
    client = client_for(app, patient)
    token = csrf_token(client, "/account")
    bad = client.post("/account/preferences", data={"language": "es", "timezone": "Mars/Olympus_Mons",
                                                    "csrf_token": token})
    assert bad.status_code == 400
    assert db.session.get(User, patient.id).timezone is None
    good = client.post("/account/preferences", data={"language": "es", "timezone": "America/Mexico_City",
                                                     "csrf_token": token})
    assert good.status_code == 302
    stored = db.session.get(User, patient.id)
    assert (stored.locale, stored.timezone) == ("es", "America/Mexico_City")
    assert "Su idioma y su zona horaria están guardados." in client.get(good.headers["Location"]).get_data(
        as_text=True)
