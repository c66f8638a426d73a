"""Validating FHIR JSON with the `fhir.resources` R4 models (the R4B package), resource by resource."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class


def validate_resource(resource: dict):
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def validate_bundle(document: dict) -> dict[str, list[dict]]:
    """Validate the Bundle and every entry; return the resources grouped by type."""
    validate_resource(document)
    grouped: dict[str, list[dict]] = {}
    for entry in document["entry"]:
        validate_resource(entry["resource"])
        grouped.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return grouped
