"""`flask backup create` / `flask backup restore` on SQLite and on PostgreSQL: after a restore the
audit chain verifies and a screening's media decrypts with the restored key."""

from __future__ import annotations

import shutil
import tarfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models.screening import Screening
from app.services import consent, screenings
from app.storage import media_store
from tests import factories, samples


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, postgres_url):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'backed-up.db'}"
        return
    if postgres_url is None:
        pytest.skip("no PostgreSQL server answers")
    name = f"moodlens_backup_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def take_screening() -> tuple[int, bytes]:
    patient = factories.patient()
    consent.grant(patient)
    screening = screenings.submit_screening(patient, samples.astronaut_jpeg(), None, [1] * 9, 1)
    return screening.id, media_store.load(screening.media_path)


def test_backup_and_restore_bring_back_database_media_and_keys(database_url, app_factory, tmp_path):
    # database_url first: its database must outlive the app_factory teardown.
    app = app_factory(SQLALCHEMY_DATABASE_URI=database_url)
    runner = app.test_cli_runner()
    with app.app_context():
        screening_id, photo = take_screening()
        archive = tmp_path / "backups" / "moodlens.tar"
        created = runner.invoke(args=["backup", "create", str(archive)])
        assert created.exit_code == 0, created.output
        assert archive.stat().st_mode & 0o777 == 0o600  # it holds the keys
        with tarfile.open(archive) as tar:
            names = tar.getnames()
        assert "keys.env" in names and "manifest.json" in names
        assert any(name.startswith("media/screenings/") for name in names)

        # Lose everything: tables, media, the generated media key.
        db.session.remove()
        db.drop_all()
        shutil.rmtree(media_store.media_root())
        (Path(app.instance_path) / "media.key").unlink()
        app.extensions.pop("moodlens_media_key")

        restored = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert "restored into instance/media.key" in restored.output
        verified = runner.invoke(args=["audit", "verify"])
        assert verified.exit_code == 0 and "Audit chain intact" in verified.output
        screening = db.session.get(Screening, screening_id)
        assert media_store.load(screening.media_path) == photo


def test_restore_refuses_a_different_media_key_and_changes_nothing(app_factory, tmp_path):
    app = app_factory()
    with app.app_context():
        take_screening()
        archive = tmp_path / "moodlens.tar"
        assert app.test_cli_runner().invoke(args=["backup", "create", str(archive)]).exit_code == 0

    other = app_factory(MEDIA_ENCRYPTION_KEY="cd" * 32)
    with other.app_context():
        refused = other.test_cli_runner().invoke(args=["backup", "restore", str(archive), "--yes"])
        assert refused.exit_code == 1
        assert "MEDIA_ENCRYPTION_KEY differs from the backup's" in refused.output
