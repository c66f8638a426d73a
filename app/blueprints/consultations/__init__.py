"""The care loop's pages, one module per room: the doctor directory, requests, one consultation,
its chat, the diagnosis, the home panels and the notifications. All share the one blueprint, so
every endpoint is `consultations.<name>`."""

from flask import Blueprint, flash, redirect, url_for

bp = Blueprint("consultations", __name__)


def back_to_consultation(target, message: str, category: str = "success"):
    """After an action on a consultation: its outcome flashed, and the consultation's page again."""
    flash(message, category)
    return redirect(url_for("consultations.detail", consultation_id=target.id))


from app.blueprints.consultations import (  # noqa: E402,F401
    chat,
    consultation,
    diagnosis,
    directory,
    notifications,
    panels,
    requests,
    stream,
)
