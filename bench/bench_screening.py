"""Screening turnaround and worker memory, LiteRT worker and Keras worker in the same run.

    .venv/bin/python bench/bench_screening.py [--photos 10] [--clips 3] [--mixed 20]

Runs a real `flask worker` (models preloaded, as in production) on a private embedded Redis
and a temporary SQLite database, submits screenings through the service the upload route
calls, and polls the row the result page polls. The page polls every 500 ms, so what a
patient sees is the database time plus on average 0.25 s (at most 0.5 s).

Per runtime (`ML_BACKEND=litert`, then `keras`): cold start to first result (worker started
with a photo already waiting), turnaround, and the worker's RSS (and its forked RQ
scheduler's) after `--mixed` screenings, photos and clips interleaved, then after one
Grad-CAM render. Last, the peak RSS of `flask ml predict` on the 10 s clip.
"""

from __future__ import annotations

import argparse
import json
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
from app.jobs.queue import get_queue  # noqa: E402
from app.ml import mtcnn_litert  # noqa: E402
from app.models.screening import Screening, ScreeningStatus  # noqa: E402
from app.models.user import User  # noqa: E402
from app.plugins import DEFAULT_PLUGIN, get_plugin  # noqa: E402
from app.services import activation_maps, consent, screenings  # noqa: E402
from config import DevelopmentConfig  # noqa: E402
from tests import factories, samples  # noqa: E402

ANSWERS = [1, 1, 0, 1, 0, 0, 1, 0, 0]
FLASK = str(Path(sys.executable).parent / "flask")


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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def memory(worker) -> str:
    scheduler = sum(rss_mb(child) for child in children(worker.pid))
    return f"worker {rss_mb(worker.pid):.0f} MB (+ forked RQ scheduler {scheduler:.0f} MB)"


# A small launcher measures the command's peak RSS: a child forked straight from this (large)
# process would inherit its memory high-water mark in ru_maxrss.
PEAK_RSS_LAUNCHER = (
    "import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); "
    "_, status, usage = os.wait4(child.pid, 0); "
    "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status), file=sys.stderr)"
)


def peak_rss_of(command: list[str], env: dict) -> tuple[float, str]:
    """Peak RSS (MB) of a command run to completion, and its output."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_LAUNCHER, *command], env=env, cwd=ROOT, capture_output=True, text=True
    )
    peak_kb, code = done.stderr.split()[-2:]
    assert code == "0", done.stderr[-2000:]
    return int(peak_kb) / 1024, done.stdout


def convert(models: Path) -> None:
    mtcnn_litert.convert_stages(models)
    get_plugin(DEFAULT_PLUGIN, models).convert_to_litert()


def bench_runtime(backend: str, env: dict, patient_id: int, photo: bytes, clip: bytes, args) -> dict:
    env = {**env, "ML_BACKEND": backend}
    first = screenings.submit_screening(db.session.get(User, patient_id), photo, None, ANSWERS, 1)
    started = time.perf_counter()
    worker = subprocess.Popen(
        [FLASK, "--app", "wsgi", "worker", "--name", f"bench-{backend}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        cold = wait_done(first.id, started)["done"]
        report = {"cold": cold, "rss_first": memory(worker)}
        report["photos"] = run(f"{backend} photo", photo, patient_id, args.photos)
        report["clips"] = run(f"{backend} clip", clip, patient_id, args.clips)
        done = 1 + args.photos + args.clips
        for index in range(max(0, args.mixed - done)):
            media = clip if index % 3 == 2 else photo
            run(f"{backend} mixed", media, patient_id, 1)
        report["rss_mixed"] = memory(worker)
        report["screenings"] = max(args.mixed, done)
        last = db.session.scalars(db.select(Screening).order_by(Screening.id.desc())).first()
        get_queue().enqueue(activation_maps.JOB, last.id, job_id=f"bench-{backend}-{last.id}")
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            db.session.remove()
            if db.session.get(Screening, last.id).gradcam_path:
                break
            time.sleep(0.05)
        report["rss_gradcam"] = memory(worker)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--mixed", type=int, default=20, help="screenings before the memory reading")
    parser.add_argument("--runtimes", default="litert,keras", help="ML_BACKEND values to measure, in order")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-screening-"))
    instance = tmp / "instance"
    models = tmp / "models"
    convert(models)
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
        "ML_MODELS_DIR": str(models),
    }
    print(f"nproc {os.cpu_count()}, load average at start {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    reports = {}
    try:
        with app.app_context():
            db.create_all()
            patient = factories.patient()
            consent.grant(patient)
            photo = samples.astronaut_jpeg()
            clip = samples.clip_webm(seconds=10.0, fps=30, size=(640, 480))
            print(f"clip: 10 s, 300 frames, 640×480 VP8, {len(clip) / 1e6:.1f} MB", flush=True)
            for backend in args.runtimes.split(","):
                reports[backend] = bench_runtime(backend, env, patient.id, photo, clip, args)
            clip_path = tmp / "clip.webm"
            clip_path.write_bytes(clip)
            predict = {}
            for backend in args.runtimes.split(","):
                peak, output = peak_rss_of(
                    [FLASK, "--app", "wsgi", "ml", "predict", str(clip_path), "--json"],
                    {**env, "ML_BACKEND": backend},
                )
                predict[backend] = (peak, json.loads(output)["frames_with_face"])
    finally:
        embedded_redis.shutdown(tmp / "redis")
    print(f"\nload average at the end {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for backend, report in reports.items():
        photos, clips = report["photos"], report["clips"]
        print(f"\n### ML_BACKEND={backend}\n")
        print(f"- cold start (worker process start → first photo result in the DB): {report['cold']:.2f} s")
        print(f"- memory after the first result: {report['rss_first']}")
        print(f"- memory after {report['screenings']} screenings (photos, 10 s clips): {report['rss_mixed']}")
        print(f"- memory after one Grad-CAM render as well: {report['rss_gradcam']}")
        peak, frames = predict[backend]
        print(f"- `flask ml predict` on the 10 s clip: peak RSS {peak:.0f} MB ({frames}/300 with a face)")
        print("\n| measure | p50 | p95 | max |\n|---|---|---|---|")
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
