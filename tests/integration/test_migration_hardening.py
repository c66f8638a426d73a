"""Upgrading an existing database with data to 0004_hardening, on SQLite and PostgreSQL: the old
unkeyed chain is checked and re-sealed with HMAC, clinical values leave the audit details, a
reused id does not carry the old account's history, ids are AUTOINCREMENT on SQLite, and
`flask audit verify` passes afterwards (and catches a cut afterwards)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")


def flask(url: str, instance: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MOODLENS_ENV="development", DATABASE_URL=url,
               MOODLENS_INSTANCE_PATH=str(instance))
    env.pop("REDIS_URL", None)
    return subprocess.run([FLASK, "--app", "wsgi", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=180, check=False)


def _legacy_chain(conn, rows: list[dict]) -> None:
    prev = "0" * 64
    for number, row in enumerate(rows, start=1):
        payload = json.dumps({"created_at": row["created_at"].isoformat(timespec="microseconds"),
                              "actor_id": row["actor_id"], "action": row["action"],
                              "patient_id": row["patient_id"], "target": row["target"], "ip": None,
                              "details": row["details"], "prev_hash": prev},
                             sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(payload.encode()).hexdigest()
        conn.execute(text("INSERT INTO audit_events (id, created_at, actor_id, action, patient_id, target,"
                          " ip, details, prev_hash, hash) VALUES (:id, :created_at, :actor_id, :action,"
                          " :patient_id, :target, NULL, :details, :prev, :hash)"),
                     dict(row, id=number, details=json.dumps(row["details"]), prev=prev, hash=digest))
        prev = digest


def _user(conn, user_id: int, email: str, created_at: datetime) -> None:
    conn.execute(text("INSERT INTO users (id, email, password_hash, role, active, created_at,"
                      " session_token, mfa_enabled, recovery_code_hashes) VALUES (:id, :email, 'x',"
                      " 'patient', true, :at, 't', false, '[]')"),
                 {"id": user_id, "email": email, "at": created_at})


def _upgrade_with_data(url: str, instance: Path) -> None:
    assert flask(url, instance, "db", "upgrade", "0003_care").returncode == 0
    engine = create_engine(url)
    t0 = datetime(2026, 1, 1, 9, 0, 0, 123456)
    with engine.begin() as conn:
        _user(conn, 1, "doctor@example.org", t0)
        # Patient 2 screened, was diagnosed, deleted their account; a newcomer then got id 2 (SQLite reuse).
        _legacy_chain(conn, [
            dict(created_at=t0 + timedelta(minutes=1), actor_id=2, action="screening.submit", patient_id=2,
                 target="screening:1", details={"kind": "photo", "phq9_band": "severe", "urgent": True}),
            dict(created_at=t0 + timedelta(minutes=2), actor_id=1, action="diagnosis.record", patient_id=2,
                 target="consultation:1", details={"version": 1, "outcome": "confirmed"}),
            dict(created_at=t0 + timedelta(minutes=3), actor_id=2, action="privacy.delete", patient_id=2,
                 target="user:2", details={"screenings": 1}),
        ])
        _user(conn, 2, "newcomer@example.org", t0 + timedelta(hours=1))
        if engine.dialect.name == "postgresql":  # rows above were written with explicit ids
            conn.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), 2)"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), 3)"))
    engine.dispose()

    result = flask(url, instance, "db", "upgrade")
    assert result.returncode == 0, result.stderr[-3000:]
    verified = flask(url, instance, "audit", "verify")
    assert verified.returncode == 0, verified.stderr + verified.stdout

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, details, actor_subject, patient_subject FROM audit_events"
                                 " ORDER BY id")).all()
        details = [json.loads(d) if isinstance(d, str) else d for _, d, _, _ in rows]
        assert [r[0] for r in rows] == ["screening.submit", "diagnosis.record", "privacy.delete",
                                        "audit.reseal"]
        assert details[0] == {"kind": "photo"} and details[1] == {"version": 1}
        assert details[3] == {"events": 3, "legacy_chain": "intact"}
        assert all(r[3] is None for r in rows[:3])  # id 2 now belongs to a later account: not theirs
        assert rows[1][2] is not None  # the doctor (id 1, older than the event) keeps a subject
        if engine.dialect.name == "sqlite":
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name IN ('users', 'audit_events', "
                                    "'screenings', 'consultations', 'chat_messages', 'notifications')"))
            ddl = ddl.scalars()
            assert all("AUTOINCREMENT" in sql for sql in ddl)
    with engine.begin() as conn:  # cut the newest event: the anchor outside the database notices
        conn.execute(text("DELETE FROM audit_events WHERE action = 'audit.reseal'"))
    engine.dispose()
    cut = flask(url, instance, "audit", "verify")
    assert cut.returncode == 1 and "removed" in cut.stderr


def test_upgrade_with_data_on_sqlite(tmp_path):
    _upgrade_with_data(f"sqlite:///{tmp_path / 'existing.db'}", tmp_path / "instance")


@pytest.mark.postgres
def test_upgrade_with_data_on_postgresql(tmp_path, postgres_url):
    if postgres_url is None:
        pytest.skip("no PostgreSQL server answers (set TEST_POSTGRES_URL); CI runs this one")
    name = f"moodlens_h10b_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _upgrade_with_data(make_url(postgres_url).set(database=name).render_as_string(hide_password=False),
                           tmp_path / "instance")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
