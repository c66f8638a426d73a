"""Password hashing: an unknown e-mail costs the same verification as a real account."""

from __future__ import annotations

from app.security import passwords


def test_the_timing_equaliser_has_the_parameters_of_real_hashes():
    # Same Argon2 parameters as a password hashed today, so verifying against it takes as long.
    assert not passwords.needs_rehash(passwords._DUMMY_HASH)
    real = passwords.hash_password("a real password")
    assert real.split("$")[1:4] == passwords._DUMMY_HASH.split("$")[1:4]


def test_an_unknown_account_never_verifies():
    assert passwords.verify_password(None, "moodlens-timing-equaliser") is False
    assert passwords.verify_password(None, "anything") is False
    assert passwords.verify_password(passwords.hash_password("secret"), "secret") is True
