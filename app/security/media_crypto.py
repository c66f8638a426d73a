"""Encryption at rest for patients' media: AES-256-GCM with one deployment key.

Each file is MAGIC + 12-byte random nonce + ciphertext-with-tag. The file's relative path is
the associated data, so a file copied onto another screening's path fails to decrypt.
The key comes from MEDIA_ENCRYPTION_KEY (64 hex chars or url-safe base64 of 32 bytes);
outside production one is generated once under instance/media.key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app

MAGIC = b"MLM1"
NONCE_BYTES = 12


class MediaKeyError(RuntimeError):
    pass


class MediaDecryptionError(RuntimeError):
    """The file was altered, moved, or encrypted with another key."""


def parse_key(value: str) -> bytes:
    value = value.strip()
    try:
        key = (
            bytes.fromhex(value)
            if len(value) == 64
            else base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        )
    except (ValueError, binascii.Error) as exc:
        raise MediaKeyError("MEDIA_ENCRYPTION_KEY must be 32 bytes as hex or url-safe base64.") from exc
    if len(key) != 32:
        raise MediaKeyError("MEDIA_ENCRYPTION_KEY must be 32 bytes (AES-256).")
    return key


def _instance_key(app: Flask) -> bytes:
    key_file = Path(app.instance_path) / "media.key"
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
            return parse_key(text)
        time.sleep(0.01)
    raise MediaKeyError(f"{key_file} does not hold a valid key.")


def media_key(app: Flask | None = None) -> bytes:
    app = app or current_app._get_current_object()
    cached = app.extensions.get("moodlens_media_key")
    if cached:
        return cached
    configured = app.config.get("MEDIA_ENCRYPTION_KEY")
    if configured:
        key = parse_key(configured)
    elif app.config.get("ENV_NAME") == "production":
        raise MediaKeyError("MEDIA_ENCRYPTION_KEY must be set in production (see README, Configuration).")
    else:
        key = _instance_key(app)
    app.extensions["moodlens_media_key"] = key
    return key


def encrypt(plaintext: bytes, associated: str, key: bytes | None = None) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key or media_key()).encrypt(nonce, plaintext, associated.encode())


def decrypt(blob: bytes, associated: str, key: bytes | None = None) -> bytes:
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE_BYTES + 16:
        raise MediaDecryptionError("not a MoodLens encrypted media file")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(key or media_key()).decrypt(
            nonce, blob[len(MAGIC) + NONCE_BYTES :], associated.encode()
        )
    except InvalidTag as exc:
        raise MediaDecryptionError("media file altered or encrypted with another key") from exc
