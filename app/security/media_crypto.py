"""Encryption at rest for patients' media: AES-256-GCM with one deployment key.

Each file is MAGIC + 12-byte random nonce + ciphertext-with-tag. The file's relative path is
the associated data, so a file copied onto another screening's path fails to decrypt.
The key comes from MEDIA_ENCRYPTION_KEY (64 hex chars or url-safe base64 of 32 bytes);
outside production one is generated once under instance/media.key (app/security/keys.py).
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app

from app.security import keys
from app.security.keys import DeploymentKeyError

MAGIC = b"MLM1"
NONCE_BYTES = 12


class MediaKeyError(DeploymentKeyError):
    pass


class MediaDecryptionError(RuntimeError):
    """The file was altered, moved, or encrypted with another key."""


def parse_key(value: str) -> bytes:
    return keys.parse_key(value, "MEDIA_ENCRYPTION_KEY", MediaKeyError)


def media_key(app: Flask | None = None) -> bytes:
    return keys.deployment_key(app or current_app._get_current_object(), "MEDIA_ENCRYPTION_KEY",
                               "media.key", MediaKeyError)


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
