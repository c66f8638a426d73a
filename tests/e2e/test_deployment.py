"""The README's Deployment block, run as written: production mode, PostgreSQL, a real Redis,
gunicorn and `flask worker` as processes; then a patient completes a photo screening over HTTP.

Only what cannot run here is substituted: hosts and folders (a private database, the tests'
Redis, temporary paths), `make install` (the venv exists) and `make setup` (its recipe,
`flask db upgrade`, checked against the Makefile). Logs of both processes are then searched for
the patient's e-mail address and clinical content, and for the request id of the upload.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import samples
from tests.e2e.browser import BIN, ROOT, free_port, wait_for

pytestmark = pytest.mark.slow
ADMIN_PASSWORD = "deployment-admin-password"
PATIENT = {"email": "deploy.patient@example.org", "full_name": "Deployia Patientname",
           "password": "a long patient password"}


def readme_deployment_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Deployment"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def deployment_script(tmp: Path, database_url: str, redis_url: str, port: int) -> str:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^setup: install i18n-compile\n\t\$\(BIN\)/flask db upgrade\n", makefile, re.M)
    block = readme_deployment_block()
    substitutions = {
        "postgresql://moodlens@db/moodlens": database_url,
        "redis://redis:6379/0": redis_url,
        "/srv/moodlens": str(tmp / "srv"),
        "/etc/moodlens": str(tmp / "etc"),
        "/run/moodlens": str(tmp / "run"),
        "0.0.0.0:8000": f"127.0.0.1:{port}",
        ".venv/bin/": f"{BIN}/",
        "make install": "true",
        "make setup": f"{BIN}/flask db upgrade",
    }
    for written, here in substitutions.items():
        assert written in block, f"the README's Deployment block no longer has {written!r}"
        block = block.replace(written, here)
    lines = []
    for line in block.replace("\\\n", " ").splitlines():
        if "/gunicorn " in line or "flask worker" in line:  # long-running: in the background
            name = "web" if "/gunicorn " in line else "worker"
            line = f"{line.split('  #')[0]} > {tmp / name}.log 2>&1 &"
        lines.append(line)
    return "set -e\n" + "\n".join(lines) + "\nwait\n"


@pytest.fixture
def postgres_database(postgres_url):
    if postgres_url is None:
        pytest.skip("the deployment test needs PostgreSQL")
    name = f"moodlens_deploy_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(drivername="postgresql", database=name).render_as_string(
        hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Visitor(requests.Session):
    """A browser stand-in on plain HTTP: production cookies are Secure (TLS sits in front of
    MoodLens), so they are handed back here as a browser behind that TLS would."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):
        response = super().request(method, self.base + url, *args, timeout=30, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrf-token" content="([^"]+)"', self.get(path).text).group(1)


def take_photo_screening(visitor: Visitor, database_url: str) -> tuple[int, str]:
    registered = visitor.post("/auth/register", data={
        **PATIENT, "confirm": PATIENT["password"], "csrf_token": visitor.csrf("/auth/register")},
        allow_redirects=False)
    assert registered.status_code in (302, 303), registered.text[-1000:]
    # Following the confirmation e-mail is tested in test_account_lifecycle.py; this test is about
    # the deployment steps, so the address is confirmed directly.
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET email_verified_at = CURRENT_TIMESTAMP WHERE email = :email"),
                     {"email": PATIENT["email"]})
    engine.dispose()
    visitor.post("/auth/logout", data={"csrf_token": visitor.csrf("/patient")})
    logged_in = visitor.post("/auth/login", data={"email": PATIENT["email"], "password": PATIENT["password"],
                                                  "csrf_token": visitor.csrf("/auth/login")},
                             allow_redirects=False)
    assert logged_in.status_code == 302, logged_in.text[-1000:]
    consented = visitor.post("/screenings/consent", data={"csrf_token": visitor.csrf("/screenings/consent")},
                             allow_redirects=False)
    assert consented.status_code in (302, 303), consented.text[-1000:]
    answers = {f"q{number}": "2" for number in range(1, 10)}
    request_id = "deploy-" + uuid.uuid4().hex[:12]
    submitted = visitor.post(
        "/screenings/new", data={**answers, "difficulty": "2", "csrf_token": visitor.csrf("/screenings/new")},
        files={"media": ("me.jpg", samples.astronaut_jpeg(), "image/jpeg")},
        headers={"X-Request-ID": request_id}, allow_redirects=False)
    assert submitted.status_code == 303, submitted.text[-1000:]
    screening_id = int(submitted.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        result = visitor.get(f"/api/v1/screenings/{screening_id}").json()
        if result["status"] in ("done", "failed"):
            break
        time.sleep(1)
    assert result["status"] == "done", result
    return screening_id, request_id


def test_the_readme_deployment_serves_a_photo_screening(tmp_path, postgres_database, redis_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "MOODLENS_", "PROMETHEUS_"))
           and k not in {"FLASK_APP", "SECRET_KEY", "MEDIA_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL"}}
    env.update({"RQ_QUEUE": f"deploy-{uuid.uuid4().hex[:8]}", "PYTHONUNBUFFERED": "1",
                "TF_CPP_MIN_LOG_LEVEL": "2"})
    script = deployment_script(tmp_path, postgres_database, redis_url, port)
    deployment = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
    deployment.stdin.write(ADMIN_PASSWORD + "\n")
    deployment.stdin.close()
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for(base + "/healthz", deployment, timeout=120)
        except RuntimeError:
            pytest.fail("\n".join(f"{log.name}: {log.read_text()[-3000:]}" for log in tmp_path.glob("*.log")))
        keys = (tmp_path / "etc" / "keys.env").read_text()
        assert "SECRET_KEY=" in keys and "MEDIA_ENCRYPTION_KEY=" in keys
        assert (tmp_path / "etc" / "keys.env").stat().st_mode & 0o077 == 0

        visitor = Visitor(base)
        assert visitor.get("/auth/login").status_code == 200
        deadline = time.monotonic() + 120
        while visitor.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(1)
        assert visitor.get("/readyz").json()["status"] == "ready"

        screening_id, request_id = take_photo_screening(visitor, postgres_database)
        page = visitor.get(f"/screenings/{screening_id}")
        assert page.status_code == 200 and "PHQ-9" in page.text

        metrics = requests.get(base + "/metrics", timeout=10).text
        assert re.search(r'moodlens_screenings_finished_total\{kind="photo",plugin="[^"]+"\} 1\.0', metrics)
        assert re.search(r'moodlens_analysis_duration_seconds_count\{kind="photo",outcome="done",'
                         r'plugin="[^"]+"\} 1\.0', metrics)
        assert "moodlens_workers_alive 1.0" in metrics
    finally:
        os.killpg(deployment.pid, signal.SIGTERM)
        try:
            deployment.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(deployment.pid, signal.SIGKILL)
        output = deployment.stdout.read()
    assert "Admin admin@hospital.example created." in output

    web, worker = ((tmp_path / f"{name}.log").read_text() for name in ("web", "worker"))
    for log in (web, worker):
        records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert records, log[-2000:]
        for forbidden in (PATIENT["email"], "example.org", PATIENT["full_name"], "Deployia", "moderate"):
            assert forbidden not in log
    web_records = [json.loads(line) for line in web.splitlines() if line.startswith("{")]
    worker_records = [json.loads(line) for line in worker.splitlines() if line.startswith("{")]
    assert any(r.get("request_id") == request_id and r.get("path") == "/screenings/new" for r in web_records)
    served = [r for r in worker_records if r.get("request_id") == request_id]
    assert served and any(r.get("event") == "job" and r.get("status") == "finished" for r in served)
