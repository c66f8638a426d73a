"""The care loop's pages: doctor directory, consultations, chat, diagnosis, notifications."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)

from app.blueprints.consultations import routes, stream  # noqa: E402,F401
