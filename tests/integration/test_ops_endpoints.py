"""/healthz, /metrics access and contents, and request ids from the web request into the job."""

from __future__ import annotations

import pytest
from rq.job import Job
from sqlalchemy import select

from app.extensions import db
from app.models.screening import Screening
from app.services import consent
from tests import factories, samples
from tests.helpers import csrf_token, form_data, login

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
ELSEWHERE = {"REMOTE_ADDR": "192.0.2.10"}


def test_healthz_needs_nothing_but_the_process(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"process": {"ok": True, "detail": "alive"}}}
    assert response.headers["Cache-Control"] == "no-store"


def test_metrics_need_the_token_or_an_allowed_network(app_factory):
    app = app_factory(METRICS_TOKEN="scrape-token-0123456789", METRICS_ALLOW_CIDRS=["10.0.0.0/8"])
    client = app.test_client()
    assert client.get("/metrics", environ_base=ELSEWHERE).status_code == 401
    assert client.get("/metrics", environ_base=ELSEWHERE,
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", environ_base=ELSEWHERE,
                    headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert ok.status_code == 200 and ok.content_type.startswith("text/plain")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200

    tokenless = app_factory(METRICS_TOKEN=None)  # default: this machine only
    assert tokenless.test_client().get("/metrics", environ_base=LOOPBACK).status_code == 200
    assert tokenless.test_client().get("/metrics", environ_base=ELSEWHERE).status_code == 403


def sample(text: str, prefix: str) -> float:
    """The value of the first metric line starting with `prefix`, 0 if there is none."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_what_happens_without_naming_anyone(app, client):
    patient = factories.patient(email="metrics.patient@example.org", name="Metrica Patientname")
    consent.grant(patient)
    submitted = 'moodlens_screenings_submitted_total{kind="photo",plugin="fer2013-mini-xception"}'
    failures = 'moodlens_login_failures_total{stage="password"}'
    before = client.get("/metrics").get_data(as_text=True)

    bad = client.post("/auth/login", data={"email": patient.email, "password": "wrong password!",
                                           "csrf_token": csrf_token(client)})
    assert bad.status_code == 401
    login(client, patient)
    response = client.post("/screenings/new", data=form_data(client, samples.astronaut_jpeg()),
                           content_type="multipart/form-data", headers={"X-Request-ID": "req-submit-1"})
    assert response.status_code == 303
    assert response.headers["X-Request-ID"] == "req-submit-1"

    after = client.get("/metrics").get_data(as_text=True)
    assert sample(after, submitted) == sample(before, submitted) + 1
    assert sample(after, failures) == sample(before, failures) + 1
    assert 'endpoint="screening.new",method="POST",status="303"' in after
    assert "moodlens_queue_jobs" in after and "moodlens_workers_alive 0.0" in after
    ours = "\n".join(line for line in after.splitlines() if line.startswith("moodlens_"))
    for personal in ("metrics.patient", "example.org", "Metrica", f'="{patient.id}"'):
        assert personal not in ours

    # The job that serves the request carries its id into the worker.
    (job_id,) = db.session.scalars(select(Screening.rq_job_id)).all()
    job = Job.fetch(job_id, connection=app.extensions["moodlens_redis"])
    assert job.meta["request_id"] == "req-submit-1"


def test_a_request_without_an_id_gets_one(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_emails_are_counted_as_sent_or_failed(app_factory, tmp_path):
    from prometheus_client import REGISTRY

    from app.storage import mailer

    def count(name: str, transport: str) -> float:
        return REGISTRY.get_sample_value(name, {"transport": transport}) or 0.0

    app = app_factory(MAIL_DIR=str(tmp_path / "mail"))
    with app.app_context():
        before = count("moodlens_emails_sent_total", "file")
        mailer.send_mail("someone@example.org", "Subject", "Body")
        assert count("moodlens_emails_sent_total", "file") == before + 1

    unreachable = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_TIMEOUT=2)
    with unreachable.app_context():
        before = count("moodlens_emails_failed_total", "smtp")
        with pytest.raises(OSError):
            mailer.send_mail("someone@example.org", "Subject", "Body")
        assert count("moodlens_emails_failed_total", "smtp") == before + 1
