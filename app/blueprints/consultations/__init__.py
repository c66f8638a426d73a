"""The care loop's pages, one module per room: the doctor directory, requests, one consultation,
its chat, the diagnosis, the home panels and the notifications. All share the one blueprint, so
every endpoint is `consultations.<name>`."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)

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
