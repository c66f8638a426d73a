"""FHIR R4 out: every resource validates with the fhir.resources models; EHRs pull with a bearer
token and see only what the token's doctor may see; doctors and patients download bundles."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.screening import Screening
from app.services import api_tokens, fhir_mapping
from tests import factories
from tests.fhir_validation import validate_bundle, validate_resource
from tests.helpers import client_for, post
from tests.integration.access_world import build_world

PHQ9_ITEM_CODES = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
                   "44253-3", "44260-8"]


@pytest.fixture
def world(app):
    world = build_world()
    screening = db.session.get(Screening, world.screening_id)
    screening.plugin_name, screening.plugin_version = "fer2013_minixception", "1.0.0"
    screening.facial_result = {"summary": {"version": "affect-v1", "indicator": 55.0}}
    db.session.commit()
    return world


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def _codes(concept: dict) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept["coding"]}


def test_everything_pulled_with_an_integration_token_validates_and_maps_the_record(app, world):
    owner, doctor = world.users["owner"], world.users["assigned_doctor"]
    secret = api_tokens.issue_integration(world.users["admin"], "EHR", doctor.id, ["fhir:read"], 365).secret
    response = app.test_client().get(f"/fhir/Patient/{owner.id}/$everything", headers=bearer(secret))
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    document = response.get_json(force=True)
    assert document["type"] == "searchset"
    found = validate_bundle(document)
    assert sorted(found) == ["Condition", "DiagnosticReport", "Observation", "Patient",
                             "QuestionnaireResponse"]
    assert found["Patient"][0]["id"] == str(owner.id)

    answers = found["QuestionnaireResponse"][0]
    assert answers["questionnaire"].endswith("44249-1")
    assert [item["linkId"] for item in answers["item"]][:9] == PHQ9_ITEM_CODES

    total, affect = sorted(found["Observation"], key=lambda o: o["id"], reverse=True)
    assert ("http://loinc.org", "44261-6") in _codes(total["code"]) and total["valueInteger"] == 14
    assert _codes(total["interpretation"][0]) == {(fhir_mapping.SEVERITY_SYSTEM, "moderate")}
    assert affect["valueQuantity"]["value"] == 55.0
    assert {c["valueString"] for c in affect["component"]} == {"fer2013_minixception", "1.0.0", "affect-v1"}

    condition = found["Condition"][0]
    assert ("http://snomed.info/sct", "35489007") in _codes(condition["code"])
    assert ("http://snomed.info/sct", "6736007") in _codes(condition["severity"])  # the doctor's "moderate"

    report = found["DiagnosticReport"][0]
    pdf = base64.b64decode(report["presentedForm"][0]["data"])
    assert pdf.startswith(b"%PDF") and report["status"] == "final"
    assert all(e["fullUrl"].startswith("http://localhost/fhir/") for e in document["entry"])
    read = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.read")).one()
    assert (read.actor_id, read.patient_id) == (doctor.id, owner.id)


def test_a_patient_not_shared_with_the_tokens_doctor_is_404(app, world):
    owner, other = world.users["owner"], world.users["other_patient"]
    assigned = api_tokens.issue_personal(world.users["assigned_doctor"], "me", ["fhir:read"], 30).secret
    unassigned = api_tokens.issue_personal(world.users["unassigned_doctor"], "me", ["fhir:read"], 30).secret
    api = app.test_client()
    for secret, patient_id in ((assigned, other.id), (unassigned, owner.id), (assigned, 999999)):
        response = api.get(f"/fhir/Patient/{patient_id}/$everything", headers=bearer(secret))
        assert response.status_code == 404
        assert response.get_json(force=True)["resourceType"] == "OperationOutcome"
        assert api.get(f"/fhir/QuestionnaireResponse?patient={patient_id}",
                       headers=bearer(secret)).status_code == 404


def test_questionnaire_response_search(app, world):
    owner = world.users["owner"]
    secret = api_tokens.issue_personal(world.users["assigned_doctor"], "me", ["fhir:read"], 30).secret
    api = app.test_client()
    response = api.get(f"/fhir/QuestionnaireResponse?patient=Patient/{owner.id}", headers=bearer(secret))
    found = validate_bundle(response.get_json(force=True))
    assert list(found) == ["QuestionnaireResponse"] and len(found["QuestionnaireResponse"]) == 1
    assert api.get("/fhir/QuestionnaireResponse", headers=bearer(secret)).status_code == 400
    assert api.get(f"/fhir/QuestionnaireResponse?patient={owner.id}").status_code == 401
    no_scope = api_tokens.issue_personal(world.users["assigned_doctor"], "x", ["screenings:read"], 30).secret
    assert api.get(f"/fhir/Patient/{owner.id}/$everything", headers=bearer(no_scope)).status_code == 403


def test_revoked_share_leaves_the_bundle(app, world):
    owner, doctor = world.users["owner"], world.users["assigned_doctor"]
    secret = api_tokens.issue_personal(doctor, "me", ["fhir:read"], 30).secret
    patient_client = client_for(app, owner)
    post(patient_client, f"/consultations/{world.consultation_id}/shares/{world.share_id}/revoke",
         page=f"/consultations/{world.consultation_id}")
    found = validate_bundle(app.test_client().get(f"/fhir/Patient/{owner.id}/$everything",
                                                  headers=bearer(secret)).get_json(force=True))
    assert "QuestionnaireResponse" not in found and "Observation" not in found
    assert found["DiagnosticReport"][0]["result"] == []


def test_treating_doctor_downloads_the_bundle_from_the_consultation(app, world):
    client = client_for(app, world.users["assigned_doctor"])
    page = client.get(f"/consultations/{world.consultation_id}").get_data(as_text=True)
    assert f"/consultations/{world.consultation_id}/fhir-bundle.json" in page
    response = client.get(f"/consultations/{world.consultation_id}/fhir-bundle.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    document = response.get_json(force=True)
    assert document["type"] == "collection" and "total" not in document
    assert "Condition" in validate_bundle(document)
    stranger = client_for(app, world.users["unassigned_doctor"])
    assert stranger.get(f"/consultations/{world.consultation_id}/fhir-bundle.json").status_code == 404


def test_patient_export_holds_a_fhir_bundle_of_their_record(app, world):
    client = client_for(app, world.users["owner"])
    response = post(client, "/account/export", page="/account")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    document = json.loads(archive.read("fhir-bundle.json"))
    found = validate_bundle(document)
    assert found["Patient"][0]["name"][0]["text"] == "Olive Owner"
    assert len(found["QuestionnaireResponse"]) == 1 and len(found["DiagnosticReport"]) == 1
    assert b"fhir-bundle.json" in archive.read("README.txt")


def test_mapping_of_a_minimal_band_and_a_failed_analysis_validates(app):

    patient = factories.patient()
    screening = factories.screening(patient, total=2, affect=None)
    screening.phq9_difficulty = None
    assert fhir_mapping.facial_affect(screening) is None
    validate_resource(fhir_mapping.questionnaire_response(screening))
    total = validate_resource(fhir_mapping.phq9_total(screening))
    assert total.interpretation[0].coding[0].code == "minimal"
    assert fhir_mapping.severity("minimal")["coding"][0]["system"] == fhir_mapping.SEVERITY_SYSTEM
    validate_resource(fhir_mapping.patient(patient))
