"""Scale-out: two real `flask worker` processes sharing one Redis and one database split a burst.

Both workers run as separate processes against the test's configured database (SQLite file by
default, PostgreSQL under TEST_DATABASE_URL) and one private Redis. The burst is 8 real photo
screenings submitted through `submit_screening`. Proved here: both workers did work (the RQ
result of each job names its worker), every screening is `done`, and nothing was analysed twice
(one attempt, one `screening.analysed` audit event and one RQ result per screening).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from rq import Worker
from rq.job import Job

from app.extensions import db
from app.jobs.queue import get_queue, get_redis
from app.models.audit import AuditEvent
from app.models.screening import Screening, ScreeningStatus
from app.models.user import User
from app.services import consent, screenings
from tests import factories, samples
from tests.worker_process import ROOT, worker_command, worker_env

pytestmark = pytest.mark.slow

BURST = 8
WORKERS = ("scale-a", "scale-b")


def start_named_worker(app, name: str, log_path) -> subprocess.Popen:
    env = worker_env(app)
    # The test's sweep must not mistake a slow photo on a busy 2-core machine for a lost job:
    # a recovered job would be analysed twice, which is exactly what this test must not see.
    env["SCREENING_STALE_SECONDS"] = "120"
    log = open(log_path, "wb")  # noqa: SIM115 (closed by the caller through the process)
    try:
        return subprocess.Popen(
            [*worker_command("--name", name)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def wait_until(predicate, timeout: float, message, workers) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for worker, log in workers:
            assert worker.poll() is None, f"a worker died:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, message()
        time.sleep(0.2)


def test_two_workers_split_a_burst_without_analysing_anything_twice(worker_app, tmp_path):  # noqa: F811
    app = worker_app
    with app.app_context():
        patient_ids = []
        for _ in range(2):
            patient = factories.patient()
            consent.grant(patient)
            patient_ids.append(patient.id)
        queue, connection = get_queue(), get_redis()
    photo = samples.astronaut_jpeg(with_gps=False)

    workers = []
    try:
        for name in WORKERS:
            log = tmp_path / f"{name}.log"
            workers.append((start_named_worker(app, name, log), log))

        def registered() -> set[str]:
            return {w.name for w in Worker.all(queue=queue)}

        # Both are listening before the burst arrives, so the split depends on who is free, not
        # on who started sooner. (--no-preload: each loads the models on its first job, ~5 s,
        # during which the other one takes the next jobs.)
        wait_until(
            lambda: registered() >= set(WORKERS), 120, lambda: f"workers registered: {registered()}", workers
        )

        started = time.monotonic()
        with app.app_context():
            patients = [db.session.get(User, patient_id) for patient_id in patient_ids]
            ids = [
                screenings.submit_screening(
                    patients[index % 2], photo, "burst.jpg", [index % 4, 1, 0, 1, 0, 0, 0, 0, 0], 1
                ).id
                for index in range(BURST)
            ]

        def unfinished() -> list:
            with app.app_context():
                db.session.remove()
                return db.session.scalars(
                    db.select(Screening.id, Screening.status).where(
                        Screening.id.in_(ids), Screening.status != ScreeningStatus.DONE
                    )
                ).all()

        wait_until(lambda: not unfinished(), 150, lambda: f"not done: {unfinished()}", workers)
        elapsed = time.monotonic() - started
        time.sleep(1.5)  # a duplicate delivery, if any, would show up now
    finally:
        for worker, _ in workers:
            stop(worker)
    logs = {name: log.read_text() for name, (_, log) in zip(WORKERS, workers, strict=True)}

    by_worker: dict[str, list[int]] = {name: [] for name in WORKERS}
    with app.app_context():
        db.session.remove()
        rows = db.session.scalars(db.select(Screening).where(Screening.id.in_(ids))).all()
        assert len(rows) == BURST
        for row in rows:
            assert row.status is ScreeningStatus.DONE, (row.id, row.status, row.failure_reason)
            assert row.attempts == 1, (row.id, row.attempts)
            assert row.face_status == "one" and row.finished_at is not None
            job = Job.fetch(row.rq_job_id, connection=connection)
            results = job.results()
            assert len(results) == 1, (row.id, [r.worker_name for r in results])
            assert results[0].return_value == "done"
            by_worker[results[0].worker_name].append(row.id)
        events = db.session.scalars(
            db.select(AuditEvent.target).where(AuditEvent.action == "screening.analysed")
        ).all()
        assert sorted(events) == sorted(f"screening:{i}" for i in ids)  # exactly one each

    # Both workers did work, and their own logs agree with the RQ results.
    assert all(by_worker.values()), (by_worker, elapsed)
    assert sorted(sum(by_worker.values(), [])) == sorted(ids)
    for name, done in by_worker.items():
        for screening_id in done:
            assert f"analyse_screening({screening_id})" in logs[name], (name, screening_id)
