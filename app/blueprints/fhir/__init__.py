"""FHIR R4 read endpoints for EHRs (bearer tokens with fhir:read) and a doctor's bundle download."""

from flask import Blueprint

bp = Blueprint("fhir", __name__)

from app.blueprints.fhir import routes  # noqa: E402,F401
