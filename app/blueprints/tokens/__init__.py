"""API token pages: a doctor's personal tokens (under their account) and admins' integrations."""

from flask import Blueprint

bp = Blueprint("tokens", __name__)

from app.blueprints.tokens import routes  # noqa: E402,F401
