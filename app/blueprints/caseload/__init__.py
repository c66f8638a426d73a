"""The doctor's caseload (measurement-based care) and the treat-to-target prompts."""

from flask import Blueprint

bp = Blueprint("caseload", __name__)

from app.blueprints.caseload import routes  # noqa: E402,F401
