"""Password hashing with Argon2id (memory-hard), via argon2-cffi's vetted defaults."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when an e-mail is unknown, so a login takes the same time either way. A
# constant (argon2-cffi's default parameters; a test checks they still are): hashing it at
# import cost every web, worker and CLI process ~0.15 s at start.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$sQfIkNfxdFFtGwSNIFUwNg$pT4tWnym7O09pqi0iEK+0sqIGf0xMg4ESemLutIIS/E"
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
