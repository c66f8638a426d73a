from flask import Blueprint

bp = Blueprint("screening", __name__)

from app.blueprints.screening import routes, stream  # noqa: E402,F401
