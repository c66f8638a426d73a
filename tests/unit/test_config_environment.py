"""A malformed environment variable never breaks `import config`; `create_app` refuses to start
with one message naming every such variable and the form it expects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "MOODLENS_INSTANCE_PATH": str(tmp_path / "instance"), **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_import_survives_and_startup_names_each_malformed_variable(tmp_path):
    bad = {"MAX_CONTENT_LENGTH": "abc", "PLUGIN_DEFAULT_MIN_ACCURACY": "high", "SEVERITY_MAX_MAE": "low"}
    imported = _python("import config; print(config.Config.MAX_CONTENT_LENGTH)", tmp_path, **bad)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == str(55 * 1024 * 1024)  # the declared default, meanwhile

    started = _python("from app import create_app; create_app()", tmp_path, **bad)
    assert started.returncode != 0
    message = started.stderr.strip().splitlines()
    assert "ConfigError: MoodLens cannot start: fix these environment variables:" in started.stderr
    assert "  MAX_CONTENT_LENGTH='abc': expected a whole number, e.g. 57671680" in message
    assert "  PLUGIN_DEFAULT_MIN_ACCURACY='high': expected a decimal number, e.g. 0.6" in message
    assert "  SEVERITY_MAX_MAE='low': expected a decimal number, e.g. 0.6" in message
    assert not (tmp_path / "instance").exists()  # refused before anything was created


def test_well_formed_values_are_read(tmp_path):
    read = _python("import config; print(config.Config.MAX_CONTENT_LENGTH, config.environment_errors())",
                   tmp_path, MAX_CONTENT_LENGTH=" 1024 ")
    assert read.stdout.split() == ["1024", "[]"], read.stderr
