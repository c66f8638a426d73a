"""Issuing, listing, revoking and checking API tokens (app/models/api_token.py).

A token is `mlk_` + 43 url-safe characters (256 random bits). Its first 12 characters after
the prefix find the row; the SHA-256 of the whole token is compared in constant time. A hash
without a salt is enough here: the secret is random, not a password a person chose.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models._time import utcnow
from app.models.api_token import ApiToken, TokenKind, TokenScope
from app.models.user import Role, User
from app.security import audit
from app.services.errors import ServiceError

TOKEN_PREFIX = "mlk_"  # noqa: S105  (a marker that makes leaked tokens easy to scan for)
LOOKUP_CHARS = 12
EXPIRY_CHOICES_DAYS = (30, 90, 180, 365)
NAME_MAX = 80


class TokenError(ServiceError):
    """A request about tokens that cannot be honoured."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _lookup_key(secret: str) -> str | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) < len(TOKEN_PREFIX) + LOOKUP_CHARS:
        return None
    return secret[len(TOKEN_PREFIX):len(TOKEN_PREFIX) + LOOKUP_CHARS]


def _clean(name: str, scopes: list[str], days: int) -> tuple[str, list[str]]:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise TokenError(_("Give the token a name of 1 to %(count)d characters.", count=NAME_MAX))
    known = {scope.value for scope in TokenScope}
    chosen = sorted(set(scopes))
    if not chosen or not set(chosen) <= known:
        raise TokenError(_("Choose at least one of the listed scopes."))
    if days not in EXPIRY_CHOICES_DAYS:
        raise TokenError(_("Choose one of the listed lifetimes."))
    return name, chosen


def _issue(kind: TokenKind, name: str, scopes: list[str], days: int, principal: User,
           issuer: User) -> IssuedToken:
    name, scopes = _clean(name, scopes, days)
    while True:  # a clash of 72 random bits is not expected; the loop only keeps `prefix` unique
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = _lookup_key(secret)
        if db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == key)) is None:
            break
    token = ApiToken(name=name, kind=kind, prefix=key, token_hash=_hash(secret), scopes=scopes,
                     principal_id=principal.id, issued_by_id=issuer.id,
                     expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.issued", actor_id=issuer.id, target=f"api_token:{token.id}",
                 details={"kind": kind.value, "scopes": scopes, "principal_id": principal.id,
                          "days": days})
    db.session.commit()
    return IssuedToken(token, secret)


def issue_personal(doctor: User, name: str, scopes: list[str], days: int) -> IssuedToken:
    """A doctor's own token: it reads what the doctor may read, no more."""
    if doctor.role is not Role.DOCTOR:
        raise TokenError(_("Only doctors hold personal API tokens."), 403)
    return _issue(TokenKind.PERSONAL, name, scopes, days, doctor, doctor)


def issue_integration(admin: User, name: str, doctor_id: int, scopes: list[str], days: int) -> IssuedToken:
    """An admin's token for a hospital system, acting for one verified doctor."""
    if admin.role is not Role.ADMIN:
        raise TokenError(_("Only administrators issue integration tokens."), 403)
    doctor = db.session.get(User, doctor_id)
    if doctor is None or not doctor.is_verified_doctor or not doctor.active:
        raise TokenError(_("Choose a verified, active doctor for the integration to act for."))
    return _issue(TokenKind.INTEGRATION, name, scopes, days, doctor, admin)


def personal_and_delegated(doctor: User) -> list[ApiToken]:
    """Every token acting for `doctor`: their own and the integrations an admin bound to them."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.principal_id == doctor.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def integrations() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.kind == TokenKind.INTEGRATION)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke(user: User, token_id: int) -> ApiToken:
    """The doctor a token acts for, or any admin for integration tokens, may revoke it."""
    token = db.session.get(ApiToken, token_id)
    allowed = token is not None and (
        token.principal_id == user.id
        or (user.role is Role.ADMIN and token.kind is TokenKind.INTEGRATION))
    if not allowed:
        raise TokenError(_("No such token."), 404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_by_id = user.id
        audit.record("api_token.revoked", actor_id=user.id, target=f"api_token:{token.id}",
                     details={"kind": token.kind.value, "principal_id": token.principal_id})
        db.session.commit()
    return token


# --- Checking a presented token -----------------------------------------------------------------

class BearerError(ServiceError):
    """Why a presented bearer token was refused (RFC 6750 error code and a plain message)."""

    def __init__(self, code: str, message: str, status: int, token: ApiToken | None = None):
        super().__init__(message, status)
        self.code = code
        self.token = token


def authenticate(secret: str, scope: TokenScope) -> ApiToken:
    """The live token for `secret` carrying `scope`, whose doctor is still active; else BearerError."""
    key = _lookup_key(secret)
    token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == key)) if key else None
    if token is None or not secrets.compare_digest(token.token_hash, _hash(secret)):
        raise BearerError("invalid_token", "The access token is not valid.", 401)
    if not token.is_live(utcnow()):
        raise BearerError("invalid_token", "The access token has expired or was revoked.", 401, token)
    if not token.principal.active:
        raise BearerError("invalid_token", "The account this token acts for is deactivated.", 401, token)
    if not token.allows(scope):
        raise BearerError("insufficient_scope", f"This token lacks the scope {scope.value}.", 403, token)
    return token


def record_use(token: ApiToken, endpoint: str | None, status: int, patient_id: int | None) -> None:
    """Stamp last use and audit it: which token, which endpoint, which patient — no clinical values."""
    token.last_used_at = utcnow()
    audit.record("api_token.used", actor_id=token.principal_id, patient_id=patient_id,
                 target=f"api_token:{token.id}", details={"endpoint": endpoint, "status": status})
    db.session.commit()


def record_refusal(token: ApiToken, endpoint: str | None, reason: str) -> None:
    audit.record("api_token.refused", actor_id=token.principal_id, target=f"api_token:{token.id}",
                 details={"endpoint": endpoint, "reason": reason})
    db.session.commit()
