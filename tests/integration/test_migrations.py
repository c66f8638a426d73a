"""`flask db upgrade` builds the schema the models describe, on SQLite and on PostgreSQL."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def upgrade(database_url: str, instance: Path) -> None:
    env = dict(os.environ, MOODLENS_ENV="development", DATABASE_URL=database_url,
               MOODLENS_INSTANCE_PATH=str(instance))
    env.pop("REDIS_URL", None)
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


def assert_schema_matches_models(database_url: str) -> None:
    import app.models  # noqa: F401

    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url, tmp_path / "instance")
    assert_schema_matches_models(url)


@pytest.mark.postgres
def test_migrations_on_postgresql(tmp_path, postgres_url):
    if postgres_url is None:
        pytest.skip("no PostgreSQL server answers (set TEST_POSTGRES_URL); CI runs this one")
    name = f"moodlens_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, tmp_path / "instance")
        assert_schema_matches_models(url)
        assert "'questionnaire'" in screening_kind_check(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()



def screening_kind_check(database_url: str) -> str:
    """The text of the CHECK constraint on screenings.kind, as the database holds it."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'screenings'")).scalar_one()
        else:
            sql = conn.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                                    " WHERE conname = 'ck_screenings_screening_kind'")).scalar_one()
    engine.dispose()
    return sql


def test_questionnaire_only_kind_is_allowed_after_upgrade_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url, tmp_path / "instance")
    check = screening_kind_check(url)
    assert "'questionnaire'" in check and "'photo'" in check and "'clip'" in check
