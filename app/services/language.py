"""Text in a given person's language, wherever it is produced.

A request speaks the reader's language (app/web/i18n.py). What is written for someone else —
a notification stored for its recipient, an e-mail sent by the worker — speaks the recipient's:
the language stored on their account, else English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.support import NullTranslations, Translations
from flask import current_app
from flask_babel import force_locale, gettext

from app.i18n.catalogues import DEFAULT_LANGUAGE, DOMAIN, available_languages
from app.i18n.marker import Marked
from app.i18n.zones import valid_timezone
from app.models.user import User


def _translations_dir() -> Path:
    return Path(current_app.root_path) / "translations"


def language_of(user: User | None) -> str:
    language = user.locale if user is not None else None
    return language if language in available_languages(_translations_dir()) else DEFAULT_LANGUAGE


@lru_cache(maxsize=8)
def _catalogue(directory: str, language: str) -> NullTranslations:
    return Translations.load(directory, [language], DOMAIN)


def translate(language: str, message: str, **params) -> str:
    """`message` (an English msgid, marked with N_ where it is written, or a `Marked` with its
    values) in `language`. Reads the catalogue directly rather than switching the request's
    locale, which Flask-Babel's force_locale does for the whole process (other threads included)."""
    if isinstance(message, Marked):
        message, params = message.msgid, {**message.params, **params}
    text = _catalogue(str(_translations_dir()), language).gettext(message)
    return text % params if params else text


def for_reader(message: str) -> str:
    """A message marked with N_ (values and all, for a `Marked`) in this request's language:
    for text made where no language is known (app/ml, app/clinical)."""
    if isinstance(message, Marked):
        return gettext(message.msgid, **message.params)
    return gettext(message)


def time_for(user: User, when: datetime) -> str:
    """A naive-UTC timestamp as `user` reads it, to the minute: their language and time zone
    (UTC when they have none), the zone named, for what is written to them away from a page."""
    spoken, zone = language_of(user), valid_timezone(user.timezone) or "UTC"
    local = when.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    pattern = Locale.parse(spoken).datetime_formats["medium"]  # how the language joins date and time
    shown = pattern.format(format_time(local, "short", locale=spoken),
                           format_date(local, "medium", locale=spoken))
    return f"{shown} ({zone})"


@contextmanager
def speaking_to(user: User | None) -> Iterator[str]:
    """Within it, gettext and templates speak `user`'s language. For the worker, which runs one
    job at a time: force_locale changes the locale of every thread of the process."""
    language = language_of(user)
    with force_locale(language):
        yield language
