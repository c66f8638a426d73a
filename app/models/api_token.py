"""API tokens: bearer credentials for the JSON API and the FHIR endpoints.

A token always acts for one doctor (`principal`) and never grants more than that doctor's own
access: a personal token is issued by the doctor for themself; an integration token is issued
by an admin to a named system (an EHR, a registry) and bound to a verified doctor whose shared
patients it may read. Only a SHA-256 hash of the secret is stored; the secret is shown once.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.i18n.marker import N_
from app.models._enum import enum_type
from app.models._time import utcnow
from app.models.user import User


class TokenKind(enum.StrEnum):
    PERSONAL = "personal"
    INTEGRATION = "integration"


class TokenScope(enum.StrEnum):
    SCREENINGS_READ = "screenings:read"
    REPORTS_READ = "reports:read"
    FHIR_READ = "fhir:read"


SCOPE_LABELS = {
    TokenScope.SCREENINGS_READ: N_("Read shared screenings (JSON API)"),
    TokenScope.REPORTS_READ: N_("Read reports (JSON API)"),
    TokenScope.FHIR_READ: N_("Read patients' records as FHIR R4"),
}


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[TokenKind] = mapped_column(enum_type(TokenKind, "token_kind"))
    # The first characters of the secret, shown in lists and used to find the row.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    principal_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    principal: Mapped[User] = relationship(foreign_keys=[principal_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def allows(self, scope: TokenScope) -> bool:
        return scope.value in self.scopes
