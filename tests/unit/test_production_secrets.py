"""Production refuses to start without its secrets; `flask keys generate` prints valid ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.security import production_secrets
from app.security.production_secrets import MissingSecretsError
from config import ProductionConfig

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GOOD = {"SECRET_KEY": "s" * 64, "MEDIA_ENCRYPTION_KEY": "ab" * 32, "AUDIT_HMAC_KEY": "cd" * 32}


def production(tmp_path, **settings):
    attributes = {"INSTANCE_PATH": tmp_path / "instance", "REDIS_URL": "redis://127.0.0.1:1/0",
                  "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
                  "SECRET_KEY": None, "MEDIA_ENCRYPTION_KEY": None, "AUDIT_HMAC_KEY": None, **settings}
    return type("Production", (ProductionConfig,), attributes)


def test_production_names_every_missing_secret(tmp_path):
    with pytest.raises(MissingSecretsError) as raised:
        create_app(production(tmp_path))
    lines = raised.value.message.splitlines()
    assert any(line.strip().startswith("SECRET_KEY is not set") for line in lines)
    assert any(line.strip().startswith("MEDIA_ENCRYPTION_KEY is not set") for line in lines)
    assert "flask keys generate" in lines[-1]
    assert not (tmp_path / "instance" / "secret_key").exists()  # nothing generated in production


def test_production_refuses_malformed_secrets(tmp_path):
    with pytest.raises(MissingSecretsError) as raised:
        create_app(production(tmp_path, SECRET_KEY="...", MEDIA_ENCRYPTION_KEY="not-a-key"))
    message = raised.value.message
    assert "SECRET_KEY is too short (3 characters" in message
    assert "MEDIA_ENCRYPTION_KEY is not a valid key" in message


def test_production_starts_with_its_secrets(tmp_path):
    app = create_app(production(tmp_path, **GOOD))
    assert app.config["ENV_NAME"] == "production"


def test_the_audit_key_is_required_and_checked(tmp_path):
    without = {name: value for name, value in GOOD.items() if name != "AUDIT_HMAC_KEY"}
    with pytest.raises(MissingSecretsError, match="AUDIT_HMAC_KEY is not set"):
        create_app(production(tmp_path, **without))
    with pytest.raises(MissingSecretsError, match="AUDIT_HMAC_KEY is not a valid key"):
        create_app(production(tmp_path, **without, AUDIT_HMAC_KEY="short"))


def flask(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"FLASK_APP", "SECRET_KEY", "MEDIA_ENCRYPTION_KEY", "AUDIT_HMAC_KEY", "DATABASE_URL",
                       "REDIS_URL"}}
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False, env={**clean, **env})


def test_keys_generate_works_in_production_and_its_output_is_accepted(tmp_path):
    done = flask("keys", "generate", MOODLENS_ENV="production", MOODLENS_INSTANCE_PATH=str(tmp_path))
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if not line.startswith("#"))
    assert sorted(values) == ["AUDIT_HMAC_KEY", "MEDIA_ENCRYPTION_KEY", "SECRET_KEY"]
    production_secrets.require(values)  # raises if any is malformed
    again = flask("keys", "generate", MOODLENS_ENV="production", MOODLENS_INSTANCE_PATH=str(tmp_path))
    assert again.stdout != done.stdout  # fresh values each time


def test_worker_refuses_to_start_with_one_line_per_missing_secret(tmp_path):
    done = flask("worker", "--burst", "--no-preload", MOODLENS_ENV="production",
                 MOODLENS_INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
                 REDIS_URL="redis://127.0.0.1:1/0")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "  SECRET_KEY is not set (signs sessions and CSRF tokens)" in done.stderr.splitlines()
    assert "  MEDIA_ENCRYPTION_KEY is not set (encrypts patients' media at rest)" in done.stderr.splitlines()


def test_gunicorn_refuses_to_start_without_the_media_key(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in {"MEDIA_ENCRYPTION_KEY", "FLASK_APP"}}
    done = subprocess.run(
        [str(BIN / "gunicorn"), "--worker-class", "gthread", "--workers", "1", "--bind", "127.0.0.1:0",
         "wsgi:app"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**clean, "MOODLENS_ENV": "production", "SECRET_KEY": GOOD["SECRET_KEY"],
             "MOODLENS_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
             "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert done.returncode != 0
    assert "MEDIA_ENCRYPTION_KEY is not set" in done.stderr
    assert "SECRET_KEY is not set" not in done.stderr
