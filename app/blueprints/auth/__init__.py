from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.blueprints.auth import routes, session_clock  # noqa: E402,F401
