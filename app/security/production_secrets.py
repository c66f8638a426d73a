"""The secrets a production deployment must set: one list, checked once when a process starts.

Without them a production server would start, serve the login page and then fail on the first
request that needs one (a patient's upload needs the media key). So `create_app` refuses to
build a production app — for gunicorn and `flask worker` alike — and names every missing or
malformed secret. `flask keys generate` prints fresh values for the same list.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import click

from app.security.media_crypto import MediaKeyError, parse_key

SECRET_KEY_MIN_LENGTH = 32


def _check_secret_key(value: str) -> None:
    if len(value) < SECRET_KEY_MIN_LENGTH:
        raise ValueError(f"is too short ({len(value)} characters; use at least {SECRET_KEY_MIN_LENGTH})")


def _check_media_key(value: str) -> None:
    try:
        parse_key(value)
    except MediaKeyError as error:
        raise ValueError(f"is not a valid key: {error}") from error


@dataclass(frozen=True)
class ProductionSecret:
    name: str
    purpose: str
    check: Callable[[str], None] | None = None
    # A secret that belongs to an optional feature is required once its setting exists in the
    # configuration (the feature's Config declares it, even as None).
    only_if_configured: bool = False

    def applies_to(self, config: Mapping) -> bool:
        return not self.only_if_configured or self.name in config

    def generate(self) -> str:
        return secrets.token_hex(32)

    def problem(self, config: Mapping) -> str | None:
        value = config.get(self.name)
        if not value:
            return f"{self.name} is not set ({self.purpose})"
        if self.check is not None:
            try:
                self.check(str(value))
            except ValueError as error:
                return f"{self.name} {error}"
        return None


PRODUCTION_SECRETS: tuple[ProductionSecret, ...] = (
    ProductionSecret("SECRET_KEY", "signs sessions and CSRF tokens", _check_secret_key),
    ProductionSecret("MEDIA_ENCRYPTION_KEY", "encrypts patients' media at rest", _check_media_key),
    ProductionSecret("AUDIT_HMAC_KEY", "keys the audit trail's hash chain", _check_media_key),
)


class MissingSecretsError(click.ClickException):
    """A ClickException, so `flask worker` prints the message alone instead of a traceback."""


def applicable(config: Mapping) -> list[ProductionSecret]:
    return [secret for secret in PRODUCTION_SECRETS if secret.applies_to(config)]


def require(config: Mapping) -> None:
    problems = [p for secret in applicable(config) if (p := secret.problem(config)) is not None]
    if problems:
        raise MissingSecretsError(
            "MoodLens refuses to start in production:\n"
            + "".join(f"  {problem}\n" for problem in problems)
            + "`flask keys generate` prints new values; set them on every node (README, Deployment)."
        )
