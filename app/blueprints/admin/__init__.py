from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.blueprints.admin import evidence_routes, models, routes  # noqa: E402,F401
