"""Numbers too large for an id column are "not found" or "bad request", never a 500: every
route with an <int:...> part is walked with huge ids, as every role."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.helpers import csrf_token, login

HUGE = ("99999999999999999999999", str(2**31), str(2**63))


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            yield rule.rule, methods


@pytest.mark.parametrize("role", ["patient", "doctor", "admin"])
def test_every_int_route_answers_404_for_a_huge_id(app, role):
    user = {"patient": factories.patient, "doctor": factories.doctor, "admin": factories.admin}[role]()
    if role == "patient":
        factories.screening(user, total=5)
    client = app.test_client()
    login(client, user)
    token = csrf_token(client, {"patient": "/account", "doctor": "/doctor", "admin": "/admin/"}[role])
    routes = list(_int_routes(app))
    assert len(routes) > 20  # the walk covers the screening, API, report, care and admin routes
    for rule, methods in routes:
        for huge in HUGE:
            url = re.sub(r"<int:[^>]+>", huge, rule)
            url = re.sub(r"<[^>]+>", "x", url)
            for method in methods:
                response = client.open(url, method=method, data={"csrf_token": token})
                assert response.status_code in (404, 405), (method, url, response.status_code)


def test_huge_or_odd_numbers_in_query_and_form_fields(app):
    admin = factories.admin()
    client = app.test_client()
    login(client, admin)
    assert client.get("/admin/audit?actor=%C2%B2").status_code == 400  # "²" is a digit to str.isdigit
    assert client.get("/admin/audit?patient=99999999999999999999999").status_code == 400
    assert client.get("/admin/users?page=99999999999999999999999").status_code == 404
    assert client.get(f"/admin/audit?page={'9' * 5000}").status_code == 404
    assert client.get("/admin/audit?actor=1").status_code == 200

    patient, doctor = factories.patient(), factories.doctor()
    from app.services import consultations

    consultation = consultations.request_consultation(patient, doctor.id, [], "")
    patient_client = app.test_client()
    login(patient_client, patient)
    response = patient_client.post(f"/consultations/{consultation.id}/share", data={
        "csrf_token": csrf_token(patient_client, "/account"), "screening_id": "99999999999999999999999"})
    assert response.status_code == 400
    assert patient_client.get("/consultations/new?screening=99999999999999999999999").status_code == 404
