"""Which hospital identity (OpenID Connect issuer + subject) signs in to which MoodLens account.

The first SSO login links by verified e-mail; later logins follow the subject, so an e-mail
address the hospital later gives to someone else cannot take the account over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._time import utcnow
from app.models.user import User


class SsoLink(db.Model):
    __tablename__ = "sso_links"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_sso_links_issuer_subject"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
