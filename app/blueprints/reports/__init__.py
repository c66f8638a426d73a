"""Reports (HTML and PDF) and the patient's history."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.blueprints.reports import routes  # noqa: E402,F401
