"""The read-only JSON API under /api/v1 beyond screenings (those live with the screening pages)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.blueprints.api import routes  # noqa: E402,F401
