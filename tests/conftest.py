"""Shared fixtures: apps built with create_app(TestConfig) on a real database and real Redis.

Redis: TEST_REDIS_URL (CI points it at the machine's server) or else the embedded server that
MoodLens itself starts, in a temporary instance folder. Database: SQLite files by default;
TEST_DATABASE_URL runs the same tests on PostgreSQL.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyotp
import pytest
import redis as redis_lib
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app, embedded_redis
from config import TestConfig, normalise_database_url
from tests import factories

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    instance = tmp_path_factory.mktemp("redis-instance")
    yield embedded_redis.ensure_running(instance)
    embedded_redis.shutdown(instance)


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """A PostgreSQL server to test against, if one answers; tests that need it skip otherwise."""
    url = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL") or POSTGRES_DEFAULT
    url = normalise_database_url(url)
    try:
        with create_engine(url, connect_args={"connect_timeout": 3}).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return None
    return url


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


@pytest.fixture
def app_factory(tmp_path, redis_url):
    """Build an app with config overrides; its schema is created and dropped around the test."""
    from app.extensions import db

    built = []

    def build(**overrides):
        app = create_app(make_config(tmp_path, redis_url, **overrides))
        app.test_client_class = RequestIsolatedClient
        with app.app_context():
            db.drop_all()
            db.create_all()
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app(app_factory, redis_url):
    app = app_factory()
    redis_lib.Redis.from_url(redis_url).flushdb()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, url: str = "/auth/login") -> str:
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


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


@pytest.fixture
def patient(app):
    return factories.patient()


@pytest.fixture
def doctor(app):
    return factories.doctor(verified=True)


@pytest.fixture
def admin(app):
    return factories.admin()
