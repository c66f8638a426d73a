"""Bearer tokens on the JSON API and the FHIR endpoints.

Only views marked with `@api_scope(...)` accept `Authorization: Bearer <token>`; everywhere else
the header is ignored (a proxy adding one must not sign anybody in to the HTML pages). On a
marked view the token's doctor becomes `current_user` for this one request, without a session:
no cookie is read or written, so the views' own policy checks bound the token exactly as they
bound that doctor. Such requests carry no cookie and need none, so CSRF does not apply to them;
every marked view is read-only (GET).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, jsonify, request

from app.extensions import login_manager
from app.models.api_token import TokenScope
from app.services import api_tokens


def api_scope(scope: TokenScope) -> Callable:
    """Mark a view as reachable with a bearer token carrying `scope` (sessions still work too)."""

    def decorator(view: Callable) -> Callable:
        view.api_scope = scope  # read by the hook below and by the access-matrix test
        return view

    return decorator


def note_patient(patient_id: int | None) -> None:
    """Let the audit record of this token use name the patient whose record was read."""
    g.api_patient_id = patient_id


def presented_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _refusal(error: api_tokens.BearerError):
    response = jsonify({"error": error.code, "error_description": error.message})
    response.status_code = error.status
    response.headers["WWW-Authenticate"] = f'Bearer error="{error.code}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    # Registered after the session rules, so they see an anonymous request and stand aside.
    @app.before_request
    def authenticate_bearer():
        secret = presented_token()
        view = current_app.view_functions.get(request.endpoint or "")
        scope = getattr(view, "api_scope", None)
        if secret is None or scope is None:
            return None
        try:
            token = api_tokens.authenticate(secret, scope)
        except api_tokens.BearerError as error:
            if error.token is not None:
                api_tokens.record_refusal(error.token, request.endpoint, error.code)
            current_app.logger.info("bearer token refused on %s: %s", request.endpoint, error.code)
            return _refusal(error)
        g.api_token = token
        login_manager._update_request_context_with_user(token.principal)
        return None

    @app.after_request
    def audit_bearer_use(response):
        token = g.pop("api_token", None)
        if token is not None:
            api_tokens.record_use(token, request.endpoint, response.status_code,
                                  g.pop("api_patient_id", None))
            response.headers["Cache-Control"] = "no-store"
        return response
