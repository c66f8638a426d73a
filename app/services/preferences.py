"""The account's language and time zone."""

from __future__ import annotations

from flask_babel import gettext as _

from app.extensions import db
from app.i18n.zones import valid_timezone
from app.models.user import User
from app.services.errors import ServiceError


def set_language(user: User, language: str) -> None:
    user.locale = language
    db.session.commit()


def set_timezone(user: User, name: str) -> None:
    zone = valid_timezone(name)
    if zone is None:
        raise ServiceError(_("Choose a time zone from the list."))
    user.timezone = zone
    db.session.commit()


def adopt_browser_timezone(user: User, name: str | None) -> bool:
    """The browser's zone becomes the account's only when the account has none: a zone the
    person chose is never overwritten by a laptop on holiday. Invalid names are ignored."""
    zone = valid_timezone(name)
    if user.timezone or zone is None:
        return False
    user.timezone = zone
    db.session.commit()
    return True
