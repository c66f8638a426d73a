"""Signing clinicians in with the hospital's OpenID Connect provider, once the ID token is valid.

The web layer (app/blueprints/sso/) runs the code flow and validates the ID token; this module
turns its claims into a MoodLens account:
- the role follows the role claim at every login (doctor or admin; neither, or both: refused);
- the first login links an existing clinician account with the same verified e-mail, or creates
  one (a new doctor is pending until an admin verifies them); later logins follow the subject;
- patient accounts never sign in this way;
- `amr`/`acr` tell whether the provider already did multi-factor authentication.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models._time import utcnow
from app.models.sso import SsoLink
from app.models.user import DoctorProfile, Role, User
from app.security import audit
from app.security.passwords import hash_password
from app.services.accounts import find_user, normalise_email
from app.services.errors import ServiceError


class SsoError(ServiceError):
    """A sign-in that cannot go ahead."""

    status = 403


@dataclass(frozen=True)
class RoleMapping:
    claim: str
    doctor_values: frozenset[str]
    admin_values: frozenset[str]


@dataclass(frozen=True)
class Identity:
    """What MoodLens reads from a validated ID token."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    role_values: tuple[str, ...]
    amr: tuple[str, ...] = field(default_factory=tuple)
    acr: str | None = None

    @classmethod
    def from_claims(cls, claims: dict, role_claim: str) -> Identity:
        roles = claims.get(role_claim) or []
        if isinstance(roles, str):
            roles = roles.split()
        amr = claims.get("amr") or []
        return cls(issuer=claims["iss"], subject=str(claims["sub"]), email=claims.get("email"),
                   email_verified=claims.get("email_verified") is True, name=claims.get("name"),
                   role_values=tuple(str(r) for r in roles),
                   amr=tuple(amr) if isinstance(amr, list) else (str(amr),), acr=claims.get("acr"))


def role_for(identity: Identity, mapping: RoleMapping) -> Role | None:
    values = set(identity.role_values)
    doctor, admin = bool(values & mapping.doctor_values), bool(values & mapping.admin_values)
    if doctor == admin:  # neither, or both: MoodLens accounts hold exactly one role
        return None
    return Role.DOCTOR if doctor else Role.ADMIN


def provider_did_mfa(identity: Identity, amr_values: Iterable[str], acr_values: Iterable[str]) -> bool:
    if set(identity.amr) & set(amr_values):
        return True
    return identity.acr is not None and identity.acr in set(acr_values)


def _linked_user(identity: Identity) -> User | None:
    link = db.session.scalar(select(SsoLink).where(SsoLink.issuer == identity.issuer,
                                                   SsoLink.subject == identity.subject))
    if link is not None:
        return link.user
    if not identity.email or not identity.email_verified:
        raise SsoError(_("Your hospital account has no verified e-mail address, so MoodLens cannot find "
                       "or create your account. Ask your IT department."))
    user = find_user(identity.email)
    if user is not None:
        other = db.session.scalar(select(SsoLink.id).where(SsoLink.user_id == user.id,
                                                           SsoLink.issuer == identity.issuer))
        if other is not None:  # the address now belongs to another hospital identity
            raise SsoError(_("This e-mail address is linked to a different hospital account."), 409)
    return user


def _create(identity: Identity, role: Role) -> User:
    # Nobody knows this password: the account signs in through the hospital (or after a reset).
    user = User(email=normalise_email(identity.email), role=role,
                password_hash=hash_password(secrets.token_urlsafe(32)))
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", actor_id=user.id, details={"role": role.value, "via": "sso"})
    return user


def _ensure_doctor_profile(user: User, identity: Identity) -> None:
    if user.doctor_profile is None:
        # Pending until an admin checks the licence, like any registering doctor.
        user.doctor_profile = DoctorProfile(full_name=(identity.name or user.email)[:120],
                                            licence_number="", specialty="")


def sign_in(identity: Identity, mapping: RoleMapping) -> User:
    """The account for a validated identity, its role set from the claim; SsoError if refused."""
    role = role_for(identity, mapping)
    user = _linked_user(identity)
    if role is None:
        if user is not None:
            audit.record("sso.refused", actor_id=user.id, details={"reason": "no_role"})
            db.session.commit()
        raise SsoError(_("Your hospital account has no MoodLens role (doctor or administrator), "
                       "or more than one. Ask your IT department."))
    if user is not None and user.role is Role.PATIENT:
        raise SsoError(_("This e-mail address belongs to a patient account. Hospital sign-in is for "
                       "clinicians; patients sign in with their password."), 409)
    if user is not None and not user.active:
        raise SsoError(_("This account is deactivated. Ask an administrator."))
    if user is None:
        user = _create(identity, role)
    elif user.role is not role:
        audit.record("sso.role_changed", actor_id=user.id,
                     details={"from": user.role.value, "to": role.value})
        user.role = role
    if role is Role.DOCTOR:
        _ensure_doctor_profile(user, identity)
    link = db.session.scalar(select(SsoLink).where(SsoLink.issuer == identity.issuer,
                                                   SsoLink.subject == identity.subject))
    if link is None:
        link = SsoLink(user=user, issuer=identity.issuer, subject=identity.subject)
        db.session.add(link)
    now = utcnow()
    link.last_login_at = user.last_login_at = now
    return user


def record_login(user: User, mfa_by_provider: bool) -> None:
    audit.record("auth.login", actor_id=user.id,
                 details={"via": "sso", "role": user.role.value, "mfa_by_provider": mfa_by_provider})
    db.session.commit()
