"""What tests do again and again: build an app's config, log in through the real forms, post with
a CSRF token, fill in the screening form. Fixtures built on these live in tests/conftest.py."""

from __future__ import annotations

import io
import os
import re
import zlib
from pathlib import Path
from types import SimpleNamespace

import pyotp
from flask import current_app, g, has_app_context
from flask.testing import FlaskClient

from app.blueprints.reports.routes import render_final
from app.extensions import db
from app.models.screening import Screening
from app.services import consent, reports
from config import TestConfig, normalise_database_url
from tests import factories

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
CALM_ANSWERS = [0, 1, 0, 1, 0, 0, 1, 0, 0]
HTMX = {"HX-Request": "true"}  # what htmx sends: a fragment endpoint answers with its fragment


def database_url_for(tmp_path: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else f"sqlite:///{tmp_path / 'moodlens.db'}"


def make_config(tmp_path: Path, redis_url: str, **overrides) -> type[TestConfig]:
    attributes = {
        "INSTANCE_PATH": tmp_path / "instance",
        "SQLALCHEMY_DATABASE_URI": database_url_for(tmp_path),
        "REDIS_URL": redis_url,
        **overrides,
    }
    return type("PerTestConfig", (TestConfig,), attributes)


class RequestIsolatedClient(FlaskClient):
    """The `app` fixture keeps an app context pushed, and Flask reuses it for requests, so `g`
    would outlive a request (cached CSRF token, cached login). In production every request
    gets a fresh `g`; this client restores that."""

    def open(self, *args, **kwargs):
        if has_app_context():  # outside one, each request gets its own context anyway
            g.__dict__.clear()
        return super().open(*args, **kwargs)


def csrf_token(client, url: str = "/auth/login") -> str:
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post(client, url: str, data: dict | None = None, page: str = "/doctors", **kwargs):
    """POST `data` with the CSRF token that `page` carries, as the browser would."""
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs)


def login(client, user, password: str = factories.PASSWORD):
    """Log in through the real form, passing the second factor when the account has one."""
    token = csrf_token(client)
    response = client.post("/auth/login", data={"email": user.email, "password": password,
                                                "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if response.headers["Location"].endswith("/auth/mfa"):
        response = client.post("/auth/mfa", data={"code": factories.totp_code(user),
                                                  "csrf_token": csrf_token(client, "/auth/mfa")})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def complete_mfa_setup(client) -> str:
    """Enrol the logged-in user's second factor through the real pages; returns the secret."""
    page = client.get("/auth/mfa/setup").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post("/auth/mfa/setup", data={"code": pyotp.TOTP(secret).now(),
                                                    "csrf_token": CSRF_RE.search(page).group(1)})
    assert response.status_code == 200 and b"recovery-codes" in response.data
    return secret


def client_for(app, user):
    """A test client logged in as `user` (a patient, or a doctor or admin with their second factor)."""
    client = app.test_client()  # one per person: RequestIsolatedClient isolates `g`
    login(client, user)
    return client


def new_patient_client(app):
    """A client logged in as a new patient who consented to screening, for an app whose context
    is not pushed (the worker tests build theirs with `app_factory`)."""
    client = app.test_client()
    with app.app_context():
        user = factories.patient()
        consent.grant(user)
        email = user.email
    login(client, SimpleNamespace(email=email))  # outside the context: each request gets its own
    return client


def form_data(client, media: bytes | None, filename: str = "upload.bin", answers=CALM_ANSWERS,
              difficulty=1) -> dict:
    """The screening form as the page posts it: PHQ-9 answers (None leaves one out) and media."""
    data = {"csrf_token": csrf_token(client, "/screenings/consent")}
    for number, value in enumerate(answers, start=1):
        if value is not None:
            data[f"q{number}"] = str(value)
    if difficulty is not None:
        data["difficulty"] = str(difficulty)
    if media is not None:
        data["media"] = (io.BytesIO(media), filename)
    return data


def submit(client, media, **kwargs):
    return client.post(
        "/screenings/new", data=form_data(client, media, **kwargs), content_type="multipart/form-data"
    )


def only_screening() -> Screening:
    (screening,) = db.session.scalars(db.select(Screening)).all()
    return screening


def finalise_report(doctor, report):
    """Finalise as the page does: the real templates render the frozen page and PDF."""
    with current_app.test_request_context():
        return reports.finalise(doctor, report, render=render_final)


def readable_pdf(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams, XMP metadata) inflated, so that its
    tags, language, title and metadata can be searched as bytes."""
    parts = [pdf]
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(stream.group(1)))
        except zlib.error:
            pass  # not Flate-encoded (e.g. an embedded image)
    return b"\n".join(parts)
