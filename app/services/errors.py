"""The edge contract: every request a service refuses raises a `ServiceError`.

`message` is safe to show to the person who made the request and `status` is the HTTP code it
answers with; app.web.errors turns any uncaught one into a page, an htmx fragment or JSON.
Routes catch one only when they answer differently (a form shown again with the message).
"""

from __future__ import annotations

from flask_babel import gettext

from app.i18n.marker import N_


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class NotFound(ServiceError):
    """Missing, or not this user's to see: the answer never says which."""

    status = 404
    MESSAGE = N_("The page you asked for does not exist, or you don't have access to it.")

    def __init__(self, message: str | None = None):
        super().__init__(message or gettext(self.MESSAGE))
