"""Screening turnaround with one warm worker: upload complete → result in the database.

    .venv/bin/python bench/bench_screening.py [--photos 10] [--clips 3]

Runs a real `flask worker` (models preloaded, as in production) on a private embedded Redis
and a temporary SQLite database, submits screenings through the service the upload route
calls, and polls the row the result page polls. The page polls every 500 ms, so what a
patient sees is the database time plus on average 0.25 s (at most 0.5 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app, embedded_redis  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models.screening import Screening, ScreeningStatus  # noqa: E402
from app.models.user import User  # noqa: E402
from app.services import consent, screenings  # noqa: E402
from config import DevelopmentConfig  # noqa: E402
from tests import factories  # noqa: E402
from tests.integration import test_screening_samples as samples  # noqa: E402

ANSWERS = [1, 1, 0, 1, 0, 0, 1, 0, 0]


def wait_done(screening_id: int, started: float, timeout: float = 120) -> dict:
    first_running = None
    while time.perf_counter() - started < timeout:
        db.session.remove()
        row = db.session.get(Screening, screening_id)
        if first_running is None and row.status is ScreeningStatus.RUNNING:
            first_running = time.perf_counter() - started
        if row.status.finished:
            assert row.status is ScreeningStatus.DONE, row.failure_reason
            return {"done": time.perf_counter() - started, "first_progress": first_running}
        time.sleep(0.01)
    raise TimeoutError(f"screening {screening_id} not done after {timeout}s")


def run(kind: str, media: bytes, patient_id: int, count: int) -> list[dict]:
    results = []
    for _ in range(count):
        patient = db.session.get(User, patient_id)
        before = time.perf_counter()
        screening = screenings.submit_screening(patient, media, None, ANSWERS, 1)
        submitted = time.perf_counter()
        timing = wait_done(screening.id, submitted)
        timing["submit"] = submitted - before
        results.append(timing)
        print(
            f"{kind}: submit {timing['submit'] * 1000:.0f} ms, done {timing['done'] * 1000:.0f} ms "
            f"after upload, running after {1000 * (timing['first_progress'] or 0):.0f} ms",
            flush=True,
        )
    return results


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--clips", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-screening-"))
    instance = tmp / "instance"
    redis_url = embedded_redis.ensure_running(tmp / "redis")
    database = f"sqlite:///{tmp / 'bench.db'}"
    config = type(
        "BenchConfig",
        (DevelopmentConfig,),
        {
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": database,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "bench",
            "SCREENING_SWEEP_SECONDS": 0,
        },
    )
    app = create_app(config)
    env = {
        **os.environ,
        "MOODLENS_ENV": "development",
        "MOODLENS_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    worker = None
    try:
        with app.app_context():
            db.create_all()
            patient = factories.patient()
            consent.grant(patient)
            worker = subprocess.Popen(
                [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            photo = samples.astronaut_jpeg()
            clip = samples.clip_webm(seconds=10.0, fps=30, size=(640, 480))
            print(f"clip: 10 s, 300 frames, 640×480 VP8, {len(clip) / 1e6:.1f} MB", flush=True)
            run("warm-up", photo, patient.id, 1)
            photos = run("photo", photo, patient.id, args.photos)
            clips = run("clip", clip, patient.id, args.clips)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        embedded_redis.shutdown(tmp / "redis")
    load = os.getloadavg()[0]
    print(f"\nnproc {os.cpu_count()}, load average {load:.1f}")
    print("| measure | p50 | p95 | max |\n|---|---|---|---|")
    for name, rows, key in (
        ("photo: upload handling (decode, re-encode, encrypt, commit, enqueue)", photos, "submit"),
        ("photo: upload complete → result in database", photos, "done"),
        ("photo: upload complete → `running` (first progress)", photos, "first_progress"),
        ("10 s clip: upload handling (probe, encrypt, commit, enqueue)", clips, "submit"),
        ("10 s clip: upload complete → result in database", clips, "done"),
        ("10 s clip: upload complete → `running` (first progress)", clips, "first_progress"),
    ):
        values = [row[key] or 0.0 for row in rows]
        print(
            f"| {name} | {p(values, 0.5) * 1000:.0f} ms | {p(values, 0.95) * 1000:.0f} ms | "
            f"{max(values) * 1000:.0f} ms |"
        )
    mean_photo = statistics.mean(r["done"] for r in photos)
    print(f"\n(photos: {len(photos)}, clips: {len(clips)}; mean photo {mean_photo:.2f} s)")


if __name__ == "__main__":
    main()
