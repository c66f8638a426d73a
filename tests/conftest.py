"""Shared fixtures: apps built with create_app(TestConfig) on a real database and real Redis.

Redis: TEST_REDIS_URL (CI points it at the machine's server) or else the embedded server that
MoodLens itself starts, in a temporary instance folder. Database: SQLite files by default;
TEST_DATABASE_URL runs the same tests on PostgreSQL.

Fixtures only: the functions tests call (log in, post with CSRF, fill in a screening) are in
tests/helpers.py, the factories in tests/factories.py, the media samples in tests/samples.py.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text

from app import create_app, embedded_redis
from config import normalise_database_url
from tests import factories
from tests.helpers import RequestIsolatedClient, client_for, make_config

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


@pytest.fixture
def patient(app):
    return factories.patient()


@pytest.fixture
def doctor(app):
    return factories.doctor(verified=True)


@pytest.fixture
def admin(app):
    return factories.admin()


# Logged-in clients per role; the doctor and the admin pass their second factor.
@pytest.fixture
def patient_client(app, patient):
    return client_for(app, patient)


@pytest.fixture
def doctor_client(app, doctor):
    return client_for(app, doctor)


@pytest.fixture
def admin_client(app, admin):
    return client_for(app, admin)


@pytest.fixture
def private_redis(tmp_path):
    """An embedded Redis of the test's own, which it may stop and start (outages)."""
    home = tmp_path / "private-redis"
    url = embedded_redis.ensure_running(home)
    yield SimpleNamespace(
        url=url, stop=lambda: embedded_redis.shutdown(home), start=lambda: embedded_redis.ensure_running(home)
    )
    embedded_redis.shutdown(home)


@pytest.fixture
def worker_app(app_factory, private_redis):
    """An app for tests that run the real worker (tests/worker_process.py) on `private_redis`."""
    # A sweep every second (instead of 30 s) so the worker's own sweep is seen within the test.
    return app_factory(REDIS_URL=private_redis.url, RATELIMIT_ENABLED=False, SCREENING_SWEEP_SECONDS=1)
