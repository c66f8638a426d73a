"""Deployment keys kept outside the database: 32 bytes from a setting (64 hex characters or
url-safe base64), required in production; outside production generated once into a 0600 file
under instance/. Used by media encryption (MEDIA_ENCRYPTION_KEY, instance/media.key) and the
audit chain's HMAC (AUDIT_HMAC_KEY, instance/audit.key)."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from pathlib import Path

from flask import Flask


class DeploymentKeyError(RuntimeError):
    pass


def parse_key(value: str, setting: str, error: type[DeploymentKeyError] = DeploymentKeyError) -> bytes:
    value = value.strip()
    try:
        key = (
            bytes.fromhex(value)
            if len(value) == 64
            else base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        )
    except (ValueError, binascii.Error) as exc:
        raise error(f"{setting} must be 32 bytes as hex or url-safe base64.") from exc
    if len(key) != 32:
        raise error(f"{setting} must be 32 bytes.")
    return key


def _instance_key(app: Flask, filename: str, setting: str, error: type[DeploymentKeyError]) -> bytes:
    key_file = Path(app.instance_path) / filename
    if not key_file.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    for _ in range(50):  # another process may be writing it right now
        text = key_file.read_text().strip()
        if len(text) == 64:
            return parse_key(text, setting, error)
        time.sleep(0.01)
    raise error(f"{key_file} does not hold a valid key.")


def deployment_key(app: Flask, setting: str, filename: str,
                   error: type[DeploymentKeyError] = DeploymentKeyError) -> bytes:
    """The key configured in `setting`; in production it must be set, elsewhere it is generated
    once into instance/`filename`. Cached per app (as app.extensions["moodlens_<stem>_key"])."""
    cache_name = f"moodlens_{Path(filename).stem}_key"
    cached = app.extensions.get(cache_name)
    if cached:
        return cached
    configured = app.config.get(setting)
    if configured:
        key = parse_key(configured, setting, error)
    elif app.config.get("ENV_NAME") == "production":
        raise error(f"{setting} must be set in production (see README, Configuration).")
    else:
        key = _instance_key(app, filename, setting, error)
    app.extensions[cache_name] = key
    return key
