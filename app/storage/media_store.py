"""Encrypted media files under MEDIA_DIR, referenced from rows by their relative path."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app

from app.security.media_crypto import decrypt, encrypt


def media_root() -> Path:
    configured = current_app.config.get("MEDIA_DIR")
    root = Path(configured) if configured else Path(current_app.instance_path) / "media"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def patient_media_folder(patient_id: int) -> str:
    """Every file about one patient (uploads, crops, activation maps, frozen reports) lives under
    this folder, relative to the media root; deleting the account removes it whole."""
    return f"screenings/{patient_id}"


def _resolve(relative: str) -> Path:
    root = media_root().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"media path escapes the media folder: {relative!r}")
    return path


def save(data: bytes, folder: str, suffix: str) -> str:
    """Encrypt and write `data`; return its path relative to the media folder."""
    relative = f"{folder}/{secrets.token_hex(16)}{suffix}.enc"
    path = _resolve(relative)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(encrypt(data, relative))
    temporary.replace(path)  # atomic: a reader sees the whole file or none
    return relative


def load(relative: str) -> bytes:
    return decrypt(_resolve(relative).read_bytes(), relative)


def delete(relative: str | None) -> None:
    if relative:
        _resolve(relative).unlink(missing_ok=True)


def modified_at(relative: str) -> float | None:
    """When the file was written (seconds since the epoch), or None if it is not there."""
    try:
        return _resolve(relative).stat().st_mtime
    except FileNotFoundError:
        return None


def find(pattern: str) -> list[str]:
    """Paths (relative to the media folder) of the files matching a glob `pattern`."""
    root = media_root()
    return [path.relative_to(root).as_posix() for path in root.glob(pattern) if path.is_file()]
