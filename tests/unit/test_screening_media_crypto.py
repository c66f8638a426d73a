"""Media encryption at rest: AES-GCM round trip, tamper and move detection, key handling."""

import pytest

from app.security import media_crypto
from app.security.media_crypto import MediaDecryptionError, MediaKeyError, decrypt, encrypt, parse_key
from app.storage import media_store

KEY = bytes(range(32))


def test_round_trip_and_ciphertext_hides_plaintext():
    blob = encrypt(b"\xff\xd8\xffsecret face", "screenings/1/a.jpg.enc", KEY)
    assert b"secret face" not in blob
    assert decrypt(blob, "screenings/1/a.jpg.enc", KEY) == b"\xff\xd8\xffsecret face"


def test_tampered_moved_or_wrong_key_fails():
    blob = encrypt(b"data", "a", KEY)
    with pytest.raises(MediaDecryptionError):
        decrypt(blob[:-1] + bytes([blob[-1] ^ 1]), "a", KEY)
    with pytest.raises(MediaDecryptionError):
        decrypt(blob, "b", KEY)  # copied onto another path
    with pytest.raises(MediaDecryptionError):
        decrypt(blob, "a", bytes(32))
    with pytest.raises(MediaDecryptionError):
        decrypt(b"plain jpeg bytes", "a", KEY)


def test_parse_key_accepts_hex_and_base64_only_32_bytes():
    assert parse_key(KEY.hex()) == KEY
    import base64

    assert parse_key(base64.urlsafe_b64encode(KEY).decode()) == KEY
    with pytest.raises(MediaKeyError):
        parse_key("too-short")


def test_instance_key_generated_once_and_store_encrypts(app):
    root = media_store.media_root()
    path = media_store.save(b"hello", "screenings/7", ".jpg")
    stored = (root / path).read_bytes()
    assert b"hello" not in stored and stored.startswith(media_crypto.MAGIC)
    assert media_store.load(path) == b"hello"
    key_file = app.instance_path + "/media.key"
    first = open(key_file).read()
    app.extensions.pop("moodlens_media_key")
    assert media_crypto.media_key() == bytes.fromhex(first)
    media_store.delete(path)
    assert not (root / path).exists()
    with pytest.raises(ValueError):
        media_store.load("../../etc/passwd")


def test_production_without_key_refuses(app):
    app.extensions.pop("moodlens_media_key", None)
    app.config["ENV_NAME"] = "production"
    try:
        with pytest.raises(MediaKeyError):
            media_crypto.media_key()
    finally:
        app.config["ENV_NAME"] = "testing"
