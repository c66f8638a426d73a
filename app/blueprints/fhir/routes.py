"""FHIR endpoints: Patient/$everything and QuestionnaireResponse search, as JSON."""

from __future__ import annotations

import json

from flask import Response, abort, render_template, request
from flask_login import current_user

from app.blueprints.fhir import bp
from app.models.api_token import TokenScope
from app.models.care import Report
from app.models.user import Role
from app.security.policy import role_required
from app.services import consultations, fhir_records, reports
from app.web.bearer import api_scope, note_patient

FHIR_JSON = "application/fhir+json"


def _fhir(document: dict, status: int = 200, download: str | None = None) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False), status=status, mimetype=FHIR_JSON)
    response.headers["Cache-Control"] = "no-store"
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return response


def _outcome(status: int, code: str, text: str) -> Response:
    return _fhir({"resourceType": "OperationOutcome",
                  "issue": [{"severity": "error", "code": code, "diagnostics": text}]}, status)


def _base_url() -> str:
    """Where entries' fullUrls start: this server's FHIR base, as the request reached it."""
    return request.url_root.rstrip("/") + "/fhir"


def _report_pdf(report: Report) -> bytes:
    html = render_template("reports/report_pdf.html", **reports.content(report))
    return reports.render_pdf(html, base_url=request.url_root)


def _reader():
    if not current_user.is_authenticated:
        return _outcome(401, "login", "Send a bearer token with the fhir:read scope.")
    return None


@bp.get("/fhir/Patient/<int:patient_id>/$everything")
@api_scope(TokenScope.FHIR_READ)
def everything(patient_id: int):
    refused = _reader()
    if refused:
        return refused
    document = fhir_records.everything_for_doctor(current_user, patient_id, _base_url(), _report_pdf)
    if document is None:
        return _outcome(404, "not-found", "No patient with this id shares their record with you.")
    note_patient(patient_id)
    return _fhir(document)


@bp.get("/fhir/QuestionnaireResponse")
@api_scope(TokenScope.FHIR_READ)
def questionnaire_responses():
    refused = _reader()
    if refused:
        return refused
    patient = request.args.get("patient", "").removeprefix("Patient/")
    if not patient.isdigit():
        return _outcome(400, "required", "Search by patient: QuestionnaireResponse?patient=<id>.")
    document = fhir_records.questionnaire_responses_for_doctor(current_user, int(patient), _base_url())
    if document is None:
        return _outcome(404, "not-found", "No patient with this id shares their record with you.")
    note_patient(int(patient))
    return _fhir(document)


@bp.get("/consultations/<int:consultation_id>/fhir-bundle.json")
@role_required(Role.DOCTOR)
def consultation_bundle(consultation_id: int):
    """The treating doctor downloads the patient's record (as they may see it) for their EHR."""
    consultation = consultations.get_for_user(current_user, consultation_id)
    if consultation is None or consultation.accepted_at is None:
        abort(404)
    document = fhir_records.everything_for_doctor(current_user, consultation.patient_id, _base_url(),
                                                  _report_pdf, bundle_type="collection")
    if document is None:
        abort(404)
    return _fhir(document, download=f"moodlens-fhir-patient-{consultation.patient_id}.json")
