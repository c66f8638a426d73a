"""Links to MoodLens pages for notifications and e-mails, built by `url_for` from endpoints.

Jobs have no request, so a link is built in a request context of its own. E-mailed links start
with MAIL_LINK_BASE_URL, the address users reach MoodLens at (a path prefix included).
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def path_for(endpoint: str, **values) -> str:
    """The site-relative path of a page (what a notification stores and the app links to)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def external_url_for(endpoint: str, **values) -> str:
    """The full address of a page, for an e-mail."""
    with current_app.test_request_context(base_url=current_app.config["MAIL_LINK_BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def external_url(path: str) -> str:
    """The full address of a stored site-relative path (a notification's link)."""
    return current_app.config["MAIL_LINK_BASE_URL"].rstrip("/") + path


def consultation_path(consultation_id: int) -> str:
    return path_for("consultations.detail", consultation_id=consultation_id)


def patient_home_path() -> str:
    return path_for("home.patient")
