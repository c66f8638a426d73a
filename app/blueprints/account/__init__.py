"""The patient's account and privacy page: download all their data, delete their account."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from app.blueprints.account import routes  # noqa: E402,F401
