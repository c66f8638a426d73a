"""Error pages that fit the layout, an htmx error fragment, and JSON for the API.

Every error a user can cause ends here with a clear message and its 4xx status: an HTTP error
raised by a route, or a `ServiceError` a service raised and the route let through. Unexpected
ones become a 500 page after the database session is rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, flash, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db
from app.services.errors import ServiceError
from app.web.htmx import is_htmx
from app.web.negotiation import wants_json

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be understood",
    401: "Please log in",
    403: "You don't have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    413: "That upload is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}

FRIENDLY = {
    404: "The page you asked for does not exist, or you don't have access to it.",
    413: "The file you sent is larger than MoodLens accepts. Photos may be up to 10 MB and "
         "clips up to 50 MB.",
    429: "Too many attempts in a short time. Please wait a minute and try again.",
    500: "The error has been logged. Nothing you entered before this page was lost; "
         "please try again in a moment.",
}


def _message(error: HTTPException) -> str:
    if isinstance(error, CSRFError):
        return ("Your form expired or did not come from this site. "
                "Please reload the page and try again.")
    if isinstance(error, RateLimitExceeded):
        return FRIENDLY[429]
    described = error.description and error.description != type(error).description
    return error.description if described else FRIENDLY.get(error.code, error.description)


def render_error(error: HTTPException):
    code = error.code or 500
    return _render(code, TITLES.get(code, error.name), _message(error))


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
    return _render(error.status, TITLES.get(error.status, HTTP_STATUS_CODES.get(error.status, "Error")),
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
