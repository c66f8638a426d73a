"""The footer's language switch and the browser's time-zone report.

`/language` works for everyone: GET (a plain link) sets the `lang` cookie; POST (a form with
its CSRF token) also stores the choice on a signed-in account, whose stored language beats the
cookie. Both go back to `next` when it is a path on this site, else home.
`/preferences/timezone` is posted by app/static/js/timezone.js: the browser's zone becomes the
account's when the account has none yet; an unknown zone is ignored.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.preferences import bp
from app.security.redirects import safe_next
from app.services import preferences
from app.web.i18n import COOKIE_MAX_AGE, LANGUAGE_COOKIE, supported_language


def _back():
    target = safe_next(request.values.get("next")) or url_for("home.index")
    return redirect(target, 303)


def _switch_language(store_on_account: bool):
    language = supported_language(request.values.get("lang"))
    if language is None:
        abort(400, description=_("Unknown language."))
    if store_on_account and current_user.is_authenticated:
        preferences.set_language(current_user._get_current_object(), language)
    response = _back()
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/language")
def language_link():
    return _switch_language(store_on_account=False)


@bp.post("/language")
def language():
    return _switch_language(store_on_account=True)


@bp.post("/preferences/timezone")
def browser_timezone():
    if current_user.is_authenticated:
        preferences.adopt_browser_timezone(current_user._get_current_object(), request.form.get("timezone"))
    return "", 204
