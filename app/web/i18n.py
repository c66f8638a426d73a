"""The reader's language and time zone on every request, and how templates show times.

Language: the signed-in account's choice, else the `lang` cookie the footer switch sets, else
the best match of Accept-Language among the shipped catalogues, else English.
Time zone: the account's, else the `tz` cookie app/static/js/timezone.js sets from the
browser, else UTC. Timestamps are stored as naive UTC (app/models/_time.py); the `localtime`
and `localdate` filters show them localised and in the reader's zone.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_login import current_user

from app.i18n.catalogues import DEFAULT_LANGUAGE, available_languages, compile_missing
from app.i18n.zones import valid_timezone

LANGUAGE_COOKIE = "lang"
TIMEZONE_COOKIE = "tz"
COOKIE_MAX_AGE = 365 * 24 * 3600


def languages() -> list[str]:
    return current_app.extensions["moodlens_languages"]


def supported_language(code: str | None) -> str | None:
    return code if code in languages() else None


def _signed_in_user():
    # current_user loads the account once per request; a bearer or anonymous request has none.
    return current_user if current_user and current_user.is_authenticated else None


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE  # the worker renders e-mails inside force_locale(...)
    user = _signed_in_user()
    return (supported_language(user.locale if user else None)
            or supported_language(request.cookies.get(LANGUAGE_COOKIE))
            or request.accept_languages.best_match(languages())
            or DEFAULT_LANGUAGE)


def select_timezone() -> str:
    if not has_request_context():
        return "UTC"
    user = _signed_in_user()
    return (valid_timezone(user.timezone if user else None)
            or valid_timezone(request.cookies.get(TIMEZONE_COOKIE))
            or "UTC")


def localtime(value: datetime, seconds: bool = False) -> str:
    """A stored naive-UTC timestamp as a medium date and a time to the minute, in the reader's
    zone and language; `seconds=True` for a page that needs them (the audit trail)."""
    if seconds:
        return format_datetime(value, "medium")
    joined = get_locale().datetime_formats["medium"]  # how the language joins a date and a time
    return joined.format(format_time(value, "short"), format_date(value, "medium"))


def localdate(value: date | datetime) -> str:
    """The reader's calendar date of a naive-UTC timestamp; a plain date (a birthday, a report
    period) as it is, since it belongs to no time zone."""
    return format_date(value, "medium")


def register(app: Flask) -> None:
    from app.extensions import babel

    translations = Path(app.root_path) / "translations"
    compile_missing(translations)
    app.extensions["moodlens_languages"] = available_languages(translations)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["localdate"] = localdate

    @app.context_processor
    def language_context() -> dict:
        user = _signed_in_user()
        return {"current_locale": str(get_locale() or DEFAULT_LANGUAGE),
                "language_choices": language_choices(),
                "store_browser_timezone": bool(user is not None and not user.timezone)}


def language_choices() -> list[dict[str, str]]:
    """Each offered language named in itself ("English", "Español"), for the footer switch."""
    return [{"code": code, "name": Locale.parse(code).get_display_name(code).capitalize()}
            for code in languages()]
