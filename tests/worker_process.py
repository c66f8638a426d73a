"""Running the real `flask worker` as a subprocess, and the screenings it analyses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.extensions import db
from app.models.screening import Screening
from tests.helpers import form_data

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")


def worker_env(app) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"FLASK_APP", "TEST_DATABASE_URL"}}
    env.update(
        {
            "MOODLENS_ENV": "development",
            "MOODLENS_INSTANCE_PATH": app.instance_path,  # same media folder and media key
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SCREENING_SWEEP_SECONDS": "1",
            "SCREENING_STALE_SECONDS": "3",
        }
    )
    return env


def worker_command(*extra: str) -> list[str]:
    return [FLASK, "--app", "wsgi", "worker", "--no-preload", *extra]


def run_burst_worker(app, timeout: int = 240) -> str:
    done = subprocess.run(
        worker_command("--burst"),
        env=worker_env(app),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def take(app, client, media: bytes, answers=(0, 1, 0, 1, 0, 0, 1, 0, 0), filename="upload") -> int:
    response = client.post(
        "/screenings/new",
        data=form_data(client, media, answers=list(answers), filename=filename),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-500:]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def start_worker(app) -> subprocess.Popen:
    return subprocess.Popen(
        worker_command(),
        env=worker_env(app),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def load(app, screening_id: int) -> Screening:
    db.session.remove()
    return db.session.get(Screening, screening_id)




def stop_worker(worker: subprocess.Popen) -> None:
    """Ask a worker to stop, as a supervisor does (SIGTERM, a warm shutdown); on a loaded machine
    it may still be finishing a sweep after 30 s, so cleanup kills it rather than fail the test."""
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
