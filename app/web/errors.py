"""Error pages that fit the layout, an htmx error fragment, and JSON for the API.

Every error a user can cause ends here with a clear message and its 4xx status: an HTTP error
raised by a route, or a `ServiceError` a service raised and the route let through. Unexpected
ones become a 500 page after the database session is rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, flash, jsonify, render_template, request
from flask_babel import gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db
from app.i18n.marker import N_
from app.services.errors import ServiceError
from app.web.htmx import is_htmx
from app.web.negotiation import wants_json

log = logging.getLogger(__name__)

TITLES = {
    400: N_("That request could not be understood"),
    401: N_("Please log in"),
    403: N_("You don't have access to this page"),
    404: N_("Page not found"),
    405: N_("That action is not allowed here"),
    413: N_("That upload is too large"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong on our side"),
}

FRIENDLY = {
    404: N_("The page you asked for does not exist, or you don't have access to it."),
    413: N_("The file you sent is larger than MoodLens accepts. Photos may be up to 10 MB and "
         "clips up to 50 MB."),
    429: N_("Too many attempts in a short time. Please wait a minute and try again."),
    500: N_("The error has been logged. Nothing you entered before this page was lost; "
         "please try again in a moment."),
}


def _message(error: HTTPException) -> str:
    if isinstance(error, CSRFError):
        return gettext("Your form expired or did not come from this site. "
                       "Please reload the page and try again.")
    if isinstance(error, RateLimitExceeded):
        return gettext(FRIENDLY[429])
    described = error.description and error.description != type(error).description
    if described:
        return error.description  # written by the route, in the reader's language
    return gettext(FRIENDLY[error.code]) if error.code in FRIENDLY else error.description


def _title(code: int, fallback: str) -> str:
    return gettext(TITLES[code]) if code in TITLES else fallback


def render_error(error: HTTPException):
    code = error.code or 500
    return _render(code, _title(code, error.name), _message(error))


def _render(code: int, title: str, message: str):
    if wants_json():
        return jsonify(error={"status": code, "title": title, "message": message}), code
    if is_htmx():
        response = render_template("partials/error.html", code=code, title=title, message=message)
        # Shown in the page's message area, whatever the request targeted.
        return response, code, {"HX-Retarget": "#messages", "HX-Reswap": "afterbegin"}
    return render_template("errors/error.html", code=code, title=title, message=message), code


def refusals_shown_on(page: Callable) -> Callable:
    """Mark a form's POST view whose refusals show `page` again with the message flashed, so the
    person keeps the list they acted on; htmx and JSON requests still get the fragment or JSON."""

    def decorator(view: Callable) -> Callable:
        view.refusal_page = page  # read by the ServiceError handler below
        return view

    return decorator


def _render_refusal(error: ServiceError):
    view = current_app.view_functions.get(request.endpoint or "")
    page = getattr(view, "refusal_page", None)
    if page is not None and not is_htmx() and not wants_json():
        flash(error.message, "error")
        return page(), error.status
    return _render(error.status, _title(error.status, HTTP_STATUS_CODES.get(error.status, "Error")),
                   error.message)


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        return render_error(error)

    @app.errorhandler(ServiceError)
    def handle_refusal(error: ServiceError):
        return _render_refusal(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(InternalServerError())
