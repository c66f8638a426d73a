"""Fault injection: PostgreSQL restarts between two requests; the next request still succeeds."""

import pytest

from tests import factories
from tests.helpers import login
from tests.integration.private_postgres import PrivatePostgres, server_binaries

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(server_binaries() is None, reason="PostgreSQL server binaries not installed"),
]


@pytest.fixture
def private_postgres():
    server = PrivatePostgres().init()
    server.start()
    yield server
    server.stop()
    server.remove()


def _patient_session(app_factory, url, **config):
    app = app_factory(SQLALCHEMY_DATABASE_URI=url, **config)
    with app.app_context():
        client = app.test_client()
        login(client, factories.patient())
    return app, client


def test_request_after_a_database_restart_succeeds(private_postgres, app_factory):
    app, client = _patient_session(app_factory, private_postgres.url)
    assert client.get("/patient").status_code == 200
    private_postgres.restart()
    assert client.get("/patient").status_code == 200  # pool_pre_ping replaced the dead connection


def test_without_pre_ping_the_same_restart_would_fail(private_postgres, app_factory):
    """The control: proves the test above exercises a really broken pooled connection."""
    app, client = _patient_session(app_factory, private_postgres.url, SQLALCHEMY_ENGINE_OPTIONS={})
    assert client.get("/patient").status_code == 200
    private_postgres.restart()
    assert client.get("/patient").status_code == 500
    assert client.get("/patient").status_code == 200  # and the pool recovers on the next one
