"""MoodLens records as FHIR R4 resources (plain JSON dicts), one pure function per resource.

Objects in, dicts out: no database, no request. `app/services/fhir_records.py` decides what a
reader may see and gathers it; the tests validate every resource with the `fhir.resources`
models (R4B package, whose resources used here are R4's).

Codes: PHQ-9 as the LOINC panel 44249-1 with its item codes and answer list LL358-3; the
total as LOINC 44261-6; depressive disorder as SNOMED CT 35489007. What has no standard code
(the severity band's key, the facial-affect indicator) is coded under MoodLens code systems.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import date, datetime

from app.clinical.phq9 import (
    ANSWER_OPTIONS,
    BANDS_BY_KEY,
    DIFFICULTY_OPTIONS,
    DIFFICULTY_QUESTION,
    PHQ9_ITEMS,
)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
MOODLENS_SYSTEM = "https://moodlens.org/fhir/CodeSystem"
SEVERITY_SYSTEM = f"{MOODLENS_SYSTEM}/phq9-severity"
OBSERVATION_SYSTEM = f"{MOODLENS_SYSTEM}/observation"
PATIENT_IDENTIFIER_SYSTEM = "urn:moodlens:patient"

PHQ9_PANEL = ("44249-1", "PHQ-9 quick depression assessment panel")
PHQ9_TOTAL = ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]")
PHQ9_ITEM_CODES = ("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
                   "44253-3", "44260-8")
PHQ9_DIFFICULTY_CODE = "69722-7"
ANSWER_CODES = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
DIFFICULTY_CODES = ("LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3")
DEPRESSIVE_DISORDER = ("35489007", "Depressive disorder")
PROGRESS_NOTE = ("11506-3", "Progress note")
# SNOMED CT severity qualifiers; "minimal" has none and is carried by the MoodLens code alone.
SEVERITY_SNOMED = {
    "mild": ("255604002", "Mild"),
    "moderate": ("6736007", "Moderate"),
    "moderately_severe": ("371924009", "Moderate to severe"),
    "severe": ("24484000", "Severe"),
}


def _instant(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"  # stored as naive UTC


def _coding(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    concept = {"coding": [_coding(system, code, display)]}
    if text:
        concept["text"] = text
    return concept


def _patient_ref(patient_id: int) -> dict:
    return {"reference": f"Patient/{patient_id}"}


def questionnaire_response_id(screening_id: int) -> str:
    return f"phq9-{screening_id}"


def phq9_total_id(screening_id: int) -> str:
    return f"phq9-total-{screening_id}"


def facial_affect_id(screening_id: int) -> str:
    return f"facial-affect-{screening_id}"


def patient(user) -> dict:
    """The patient's demographics as MoodLens holds them: name, birth date, e-mail."""
    profile = user.patient_profile
    resource = {
        "resourceType": "Patient",
        "id": str(user.id),
        "identifier": [{"system": PATIENT_IDENTIFIER_SYSTEM, "value": str(user.id)}],
        "active": bool(user.active),
        "telecom": [{"system": "email", "value": user.email}],
    }
    if profile is not None:
        resource["name"] = [{"text": profile.full_name}]
        if isinstance(profile.date_of_birth, date):
            resource["birthDate"] = profile.date_of_birth.isoformat()
    return resource


def questionnaire_response(screening) -> dict:
    """The PHQ-9 answers of a finished screening, item by item with LOINC codes."""
    items = [
        {"linkId": code, "text": text,
         "answer": [{"valueCoding": _coding(LOINC, ANSWER_CODES[answer], ANSWER_OPTIONS[answer])}]}
        for code, text, answer in zip(PHQ9_ITEM_CODES, PHQ9_ITEMS, screening.phq9_answers, strict=True)
    ]
    if screening.phq9_difficulty is not None:
        difficulty = screening.phq9_difficulty
        items.append({"linkId": PHQ9_DIFFICULTY_CODE, "text": DIFFICULTY_QUESTION, "answer": [{
            "valueCoding": _coding(LOINC, DIFFICULTY_CODES[difficulty], DIFFICULTY_OPTIONS[difficulty])}]})
    items.append({"linkId": PHQ9_TOTAL[0], "text": "Total score",
                  "answer": [{"valueInteger": screening.phq9_total}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": questionnaire_response_id(screening.id),
        "questionnaire": f"{LOINC}/q/{PHQ9_PANEL[0]}",
        "status": "completed",
        "subject": _patient_ref(screening.patient_id),
        "authored": _instant(screening.created_at),
        "item": items,
    }


def _survey_category() -> list[dict]:
    return [_concept(OBSERVATION_CATEGORY, "survey", "Survey")]


def phq9_total(screening) -> dict:
    """The PHQ-9 total, its severity band as the interpretation."""
    band = BANDS_BY_KEY[screening.phq9_band]
    return {
        "resourceType": "Observation",
        "id": phq9_total_id(screening.id),
        "status": "final",
        "category": _survey_category(),
        "code": _concept(LOINC, *PHQ9_TOTAL, text="PHQ-9 total score"),
        "subject": _patient_ref(screening.patient_id),
        "effectiveDateTime": _instant(screening.created_at),
        "valueInteger": screening.phq9_total,
        "interpretation": [_concept(SEVERITY_SYSTEM, band.key, band.label,
                                    text=f"{band.label} depression symptoms")],
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{questionnaire_response_id(screening.id)}"}],
    }


def facial_affect(screening) -> dict | None:
    """The facial-affect indicator (0-100) with the classifier plugin and indicator versions.
    None when the analysis produced no indicator (no face, failed analysis)."""
    if screening.affect_indicator is None:
        return None
    summary = (screening.facial_result or {}).get("summary") or {}
    components = [
        {"code": _concept(OBSERVATION_SYSTEM, "classifier-plugin", "Classifier plugin"),
         "valueString": screening.plugin_name},
    ]
    if screening.plugin_version:
        components.append({"code": _concept(OBSERVATION_SYSTEM, "classifier-plugin-version",
                                            "Classifier plugin version"),
                           "valueString": screening.plugin_version})
    if summary.get("version"):
        components.append({"code": _concept(OBSERVATION_SYSTEM, "indicator-version", "Indicator version"),
                           "valueString": summary["version"]})
    return {
        "resourceType": "Observation",
        "id": facial_affect_id(screening.id),
        "status": "final",
        "category": [_concept(OBSERVATION_CATEGORY, "exam", "Exam")],
        "code": _concept(OBSERVATION_SYSTEM, "facial-affect-indicator", "Facial-affect indicator",
                         text="Facial-affect indicator (a screening aid, not a diagnosis)"),
        "subject": _patient_ref(screening.patient_id),
        "effectiveDateTime": _instant(screening.created_at),
        "valueQuantity": {"value": float(screening.affect_indicator), "unit": "score", "system": UCUM,
                          "code": "{score}"},
        "component": components,
    }


def severity(key: str | None) -> dict | None:
    band = BANDS_BY_KEY.get(key or "")
    if band is None:
        return None
    codings = [_coding(SEVERITY_SYSTEM, band.key, band.label)]
    if key in SEVERITY_SNOMED:
        codings.insert(0, _coding(SNOMED, *SEVERITY_SNOMED[key]))
    return {"coding": codings, "text": band.label}


def condition(diagnosis, patient_id: int) -> dict:
    """A confirmed diagnosis: depressive disorder with the severity the doctor chose."""
    resource = {
        "resourceType": "Condition",
        "id": f"diagnosis-{diagnosis.id}",
        "clinicalStatus": _concept(CONDITION_CLINICAL, "active", "Active"),
        "verificationStatus": _concept(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
        "category": [_concept(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")],
        "code": _concept(SNOMED, *DEPRESSIVE_DISORDER, text="Depressive disorder"),
        "subject": _patient_ref(patient_id),
        "recordedDate": _instant(diagnosis.created_at),
        "recorder": {"display": diagnosis.author.display_name},
    }
    graded = severity(diagnosis.severity)
    if graded:
        resource["severity"] = graded
    if diagnosis.notes:
        resource["note"] = [{"text": diagnosis.notes}]
    return resource


def diagnostic_report(report, patient_id: int, pdf: bytes | None, screening_ids: Iterable[int],
                      condition_id: str | None) -> dict:
    """A final report, its PDF attached (base64) and its screenings' PHQ-9 totals as results."""
    resource = {
        "resourceType": "DiagnosticReport",
        "id": f"report-{report.id}",
        "status": "final",
        "code": _concept(LOINC, *PROGRESS_NOTE, text="MoodLens depression care report"),
        "subject": _patient_ref(patient_id),
        "issued": _instant(report.finalised_at or report.created_at),
        "performer": [{"display": report.author.display_name}],
        "result": [{"reference": f"Observation/{phq9_total_id(sid)}"} for sid in screening_ids],
    }
    if report.period_start or report.period_end:
        period = {}
        if report.period_start:
            period["start"] = _instant(report.period_start)
        if report.period_end:
            period["end"] = _instant(report.period_end)
        resource["effectivePeriod"] = period
    else:
        resource["effectiveDateTime"] = resource["issued"]
    if report.comments:
        resource["conclusion"] = report.comments
    if condition_id:
        resource["conclusionCode"] = [_concept(SNOMED, *DEPRESSIVE_DISORDER)]
    if pdf is not None:
        resource["presentedForm"] = [{
            "contentType": "application/pdf", "title": f"moodlens-report-{report.id}.pdf",
            "data": base64.b64encode(pdf).decode("ascii")}]
    return resource


def bundle(resources: list[dict], base_url: str, bundle_type: str = "collection",
           timestamp: datetime | None = None) -> dict:
    """Resources as a Bundle; each entry's fullUrl is `<base_url>/<type>/<id>`."""
    document = {"resourceType": "Bundle", "type": bundle_type}
    if timestamp is not None:
        document["timestamp"] = _instant(timestamp)
    if bundle_type == "searchset":
        document["total"] = len(resources)
    entries = []
    for resource in resources:
        entry = {"fullUrl": f"{base_url.rstrip('/')}/{resource['resourceType']}/{resource['id']}",
                 "resource": resource}
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    document["entry"] = entries
    return document
