"""Reading the audit trail for the admin console (writing and verifying: app/security/audit.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from app.extensions import db
from app.models._ids import parse_id
from app.models.audit import AuditEvent
from app.models.user import User
from app.security.audit import user_subject
from app.services.accounts import find_user

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # an e-mail address or a user id
    patient: str | None = None  # an e-mail address or a user id
    action: str | None = None  # exact action, or a prefix ending in "." (e.g. "doctor.")
    since: date | None = None
    until: date | None = None  # inclusive


def _person(value: str | None, id_column, subject_column):
    """The condition a filter value names: a plain id as asked, an e-mail address by its
    account's subject (so a reused id never mixes two people); nothing for unknown values."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return id_column == (parse_id(value) or -1)
    user = find_user(value)
    return subject_column == user_subject(user) if user else id_column == -1


def search(criteria: AuditFilter, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """Events matching the filter, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    for value, id_column, subject_column in (
            (criteria.actor, AuditEvent.actor_id, AuditEvent.actor_subject),
            (criteria.patient, AuditEvent.patient_id, AuditEvent.patient_subject)):
        condition = _person(value, id_column, subject_column)
        if condition is not None:
            query = query.where(condition)
    if criteria.action:
        if criteria.action.endswith("."):
            query = query.where(AuditEvent.action.startswith(criteria.action, autoescape=True))
        else:
            query = query.where(AuditEvent.action == criteria.action)
    if criteria.since:
        query = query.where(AuditEvent.created_at >= datetime.combine(criteria.since, time.min))
    if criteria.until:
        day_after = datetime.combine(criteria.until + timedelta(days=1), time.min)
        query = query.where(AuditEvent.created_at < day_after)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def actions() -> list[str]:
    """Every action that occurs in the trail, for the filter's choices."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def emails_for(events) -> dict[str, str]:
    """E-mail addresses by account subject for the actors and patients of some events. A deleted
    account is absent, also when its id now belongs to someone else (their subject differs)."""
    ids = {e.actor_id for e in events if e.actor_id} | {e.patient_id for e in events if e.patient_id}
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    return {user_subject(user): user.email for user in users}
