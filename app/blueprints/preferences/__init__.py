"""The reader's language (the footer switch) and time zone (set by the browser's own)."""

from flask import Blueprint

bp = Blueprint("preferences", __name__)

from app.blueprints.preferences import routes  # noqa: E402,F401
