"""Clinicians' single sign-on with the hospital's OpenID Connect provider (optional)."""

from flask import Blueprint

bp = Blueprint("sso", __name__, url_prefix="/sso")

from app.blueprints.sso import routes  # noqa: E402,F401
