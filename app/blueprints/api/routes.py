"""JSON reports for a session or a bearer token with `reports:read`."""

from __future__ import annotations

from flask import abort, jsonify
from flask_login import current_user

from app.blueprints.api import bp
from app.blueprints.api.presenters import report_payload
from app.models.api_token import TokenScope
from app.services import reports
from app.web.bearer import api_scope, note_patient


@bp.get("/reports/<int:report_id>")
@api_scope(TokenScope.REPORTS_READ)
def report(report_id: int):
    if not current_user.is_authenticated:
        abort(401)
    found = reports.get_for_user(current_user, report_id)
    if found is None:
        abort(404)
    note_patient(found.consultation.patient_id)
    return jsonify(report_payload(reports.content(found)))
