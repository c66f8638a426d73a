"""The doctor's caseload page against PostgreSQL: 500 patients × 20 screenings each.

    .venv/bin/python bench/bench_caseload.py [--patients 500] [--screenings 20] [--requests 40]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Seeds a private PostgreSQL database (bulk inserts: one doctor, the patients, their screenings,
accepted consultations with every screening shared, confirmed diagnoses, some unread messages),
then times GET /doctor/caseload through the real app (logged in, second factor passed) and, in
the same run, a naive version of the same page that asks the database once or more per
patient (the ORM relationships and per-consultation helpers, as the doctor's home does for
its watch lists). Both render the same template. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import render_template  # noqa: E402
from flask_login import current_user  # noqa: E402
from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app, embedded_redis  # noqa: E402
from app.blueprints.caseload.forms import FilterForm  # noqa: E402
from app.clinical import outcomes  # noqa: E402
from app.clinical.outcomes import Measurement  # noqa: E402
from app.clinical.phq9 import band_for  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models._time import utcnow  # noqa: E402
from app.models.care import (  # noqa: E402
    ChatMessage,
    Consultation,
    ConsultationStatus,
    Diagnosis,
    ScreeningRequest,
    ScreeningShare,
)
from app.models.screening import Screening  # noqa: E402
from app.models.user import PatientProfile, Role, User  # noqa: E402
from app.security.policy import role_required  # noqa: E402
from app.services import caseload, followups  # noqa: E402
from app.services.consultations import shared_screenings  # noqa: E402
from config import DevelopmentConfig, normalise_database_url  # noqa: E402
from tests import factories  # noqa: E402
from tests.helpers import RequestIsolatedClient, login  # noqa: E402


def seed(patients: int, per_patient: int) -> int:
    """Bulk-insert the caseload; returns the doctor's id."""
    doctor = factories.doctor(name="Bench Doctor")
    password_hash, now, rng = doctor.password_hash, utcnow(), random.Random(7)
    first_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    users = [{"id": first_user + i, "email": f"bench{i}@example.org", "password_hash": password_hash,
              "role": Role.PATIENT, "active": True, "created_at": now, "session_token": uuid.uuid4().hex,
              "mfa_enabled": False, "recovery_code_hashes": []} for i in range(patients)]
    db.session.execute(insert(User), users)
    db.session.execute(insert(PatientProfile), [
        {"user_id": u["id"], "full_name": f"Patient {i:04d} {rng.choice('ABCDEFGH')}"}
        for i, u in enumerate(users)])
    db.session.execute(insert(Consultation), [
        {"id": i + 1, "patient_id": u["id"], "doctor_id": doctor.id, "status": ConsultationStatus.ACCEPTED,
         "urgent": False, "message": "", "created_at": now - timedelta(weeks=per_patient + 1),
         "accepted_at": now - timedelta(weeks=per_patient + 1)} for i, u in enumerate(users)])
    screenings, shares, diagnoses, messages = [], [], [], []
    screening_id = 0
    for i, user in enumerate(users):
        consultation_id, total = i + 1, rng.randint(10, 25)
        diagnosed = now - timedelta(weeks=per_patient - 0.5)
        for week in range(per_patient):
            screening_id += 1
            total = max(0, min(27, total + rng.randint(-3, 2)))
            item9 = 1 if week == per_patient - 1 and rng.random() < 0.03 else 0
            answers = [min(3, max(0, total - 3 * k)) for k in range(8)] + [item9]
            screenings.append({
                "id": screening_id, "patient_id": user["id"], "kind": "photo", "status": "done",
                "progress": 1.0, "stage": "", "plugin_name": "bench", "attempts": 1,
                "consent_version": "bench",
                "created_at": now - timedelta(weeks=per_patient - week, days=rng.random()),
                "phq9_answers": answers, "phq9_total": total, "phq9_item9": item9,
                "phq9_band": band_for(total).key, "urgent": item9 > 0,
                "affect_indicator": rng.uniform(20, 90)})
            shares.append({"consultation_id": consultation_id, "screening_id": screening_id,
                           "source": "request" if week == 0 else "follow_up",
                           "created_at": now, "revoked_at": None})
        diagnoses.append({"consultation_id": consultation_id, "version": 1, "author_id": doctor.id,
                          "created_at": diagnosed, "outcome": "confirmed", "severity": "moderate",
                          "band_from_phq9": "moderate", "notes": "", "plan": "psychotherapy",
                          "plan_details": "", "followup_interval_days": rng.choice([7, 14, 28])})
        if rng.random() < 0.2:
            messages.append({"consultation_id": consultation_id, "sender_id": user["id"], "body": "Hello",
                             "created_at": now})
    db.session.execute(insert(Screening), screenings)
    db.session.execute(insert(ScreeningShare), shares)
    db.session.execute(insert(Diagnosis), diagnoses)
    db.session.execute(insert(ChatMessage), messages)
    db.session.commit()
    for table in ("users", "consultations", "screenings"):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return doctor.id


def naive_rows(doctor_id: int) -> list[caseload.Row]:
    """The same rows, asked for patient by patient through the ORM."""
    now, rows = utcnow(), []
    for consultation in followups.active_consultations(doctor_id=doctor_id):
        screenings = shared_screenings(consultation)
        points = [Measurement(s.created_at, s.phq9_total, s.phq9_item9, s.affect_indicator)
                  for s in screenings]
        confirmed = [d for d in consultation.diagnoses if d.confirmed]
        outcome = outcomes.evaluate(points, confirmed[0].created_at if confirmed else None, now)
        followup = followups.next_followup(consultation, now)
        unread = db.session.scalar(select(func.count(ChatMessage.id)).where(
            ChatMessage.consultation_id == consultation.id, ChatMessage.sender_id != doctor_id,
            ChatMessage.read_at.is_(None)))
        requested = db.session.scalar(select(ScreeningRequest.id).where(
            ScreeningRequest.consultation_id == consultation.id, ScreeningRequest.fulfilled_at.is_(None)))
        state = followup.state if followup else None
        rows.append(caseload.Row(
            consultation.id, consultation.patient_id, consultation.patient.display_name, outcome,
            outcomes.attention(outcome, state == "overdue"), followup.due_at if followup else None, state,
            consultation.current_diagnosis.followup_interval_days if confirmed else None, bool(confirmed),
            unread, requested is not None, points))
    return caseload._sorted(rows, "attention")


@role_required(Role.DOCTOR)
def naive_page():
    filters = caseload.Filters()
    result = caseload.Caseload(filters, rows=naive_rows(current_user.id))  # the same page of 50 rows
    result.total = len(result.rows)
    return render_template("caseload/index.html", caseload=result, filters=filters, form=FilterForm(),
                           return_query="")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def timed(client, url: str, runs: int) -> tuple[list[float], list[float], int, int]:
    """Latencies and this process's CPU time (ms), statements per request and response size.
    The CPU time leaves out PostgreSQL's own work and the waiting on a busy machine."""
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, response.status_code
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    client.get(url)
    event.remove(db.engine, "before_cursor_execute", count)
    latencies, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return latencies, cpu, statements, len(response.data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--screenings", type=int, default=20)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    base = normalise_database_url(args.database_url)
    name = f"bench_caseload_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    instance = Path(tempfile.mkdtemp(prefix="bench-caseload-")) / "instance"
    config = type("BenchConfig", (DevelopmentConfig,), {
        "INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None,
        "SQLALCHEMY_ECHO": False, "RATELIMIT_ENABLED": False})
    app = create_app(config)
    app.add_url_rule("/bench/naive-caseload", "bench_naive_caseload", naive_page)
    app.test_client_class = RequestIsolatedClient  # a fresh `g` per request under the pushed context
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            doctor_id = seed(args.patients, args.screenings)
            print(f"seeded {args.patients} patients × {args.screenings} screenings "
                  f"in {time.perf_counter() - started:.1f} s", flush=True)
            client = app.test_client()
            login(client, db.session.get(User, doctor_id))
            load_before = os.getloadavg()[0]
            ours, ours_cpu, ours_statements, size = timed(client, "/doctor/caseload", args.requests)
            naive, naive_cpu, naive_statements, _ = timed(client, "/bench/naive-caseload",
                                                          max(5, args.requests // 4))
            db.session.remove()
        print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
              f"nproc {os.cpu_count()}; page {size / 1024:.0f} KiB")
        for label, values, cpu, statements in (
                ("caseload (bulk queries)", ours, ours_cpu, ours_statements),
                ("naive (per-patient queries)", naive, naive_cpu, naive_statements)):
            print(f"{label:30} p50 {statistics.median(values):6.0f} ms"
                  f"   p95 {percentile(values, 0.95):6.0f} ms   CPU p50 {statistics.median(cpu):5.0f} ms"
                  f"   {statements} SQL statements per request   ({len(values)} requests)")
    finally:
        with app.app_context():
            db.engine.dispose()
        embedded_redis.shutdown(instance)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
