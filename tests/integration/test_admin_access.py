"""Every /admin URL is for admins only; admins never reach clinical content."""

from __future__ import annotations

import pytest
from flask import url_for

from app.models.user import Role
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import consent, screenings
from tests import samples
from tests.helpers import csrf_token, login

SAMPLE_ARGUMENTS = {"name": DEFAULT_PLUGIN, "user_id": 1, "job_id": "no-such-job"}


def _admin_rules(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]
    assert len(rules) >= 10  # the console's pages and actions are all registered
    return rules


def _url(app, rule) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{arg: SAMPLE_ARGUMENTS.get(arg, 1) for arg in rule.arguments})


def _requests(app, rule):
    return [(method, _url(app, rule)) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def test_every_admin_view_carries_the_admin_policy(app):
    for rule in _admin_rules(app):
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "required_roles", None) == (Role.ADMIN,), rule.rule


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    token = csrf_token(client, "/auth/login")
    for rule in _admin_rules(app):
        for method, url in _requests(app, rule):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_patients_and_doctors_get_403_everywhere(app, client, role, request):
    login(client, request.getfixturevalue(role))
    token = csrf_token(client, "/admin/")  # the 403 page has the layout, and so a token
    for rule in _admin_rules(app):
        for method, url in _requests(app, rule):
            response = client.open(url, method=method, data={"csrf_token": token, "reason": "x"})
            assert response.status_code == 403, (role, method, url, response.status_code)


def test_admins_get_every_page(app, client, admin):
    login(client, admin)
    for rule in _admin_rules(app):
        if "GET" not in rule.methods:
            continue
        response = client.get(_url(app, rule))
        # Pages answer 200; per-item GETs of things that don't exist here answer 404.
        expected = {404} if rule.arguments else {200}
        assert response.status_code in expected, (rule.rule, response.status_code)


def test_admins_are_refused_every_page_reserved_to_other_roles(app, client, admin):
    """Least privilege: clinical pages (screenings, chats, diagnoses, reports) keep admins out."""
    login(client, admin)
    checked = 0
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "required_roles", None)
        if roles is None or Role.ADMIN in roles or "GET" not in rule.methods:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: 1 for arg in rule.arguments})
        response = client.get(url)
        assert response.status_code in (403, 404), (rule.rule, response.status_code)
        checked += 1
    assert checked >= 2  # at least the patient's and the doctor's homes


def test_admins_get_404_on_a_patients_screening(app, client, admin, patient):
    """Clinical content behind per-object policies (not role decorators) stays closed too."""
    consent.grant(patient)
    screening = screenings.submit_screening(patient, samples.astronaut_jpeg(), "me.jpg",
                                            [1, 1, 0, 1, 0, 0, 1, 0, 0], 1)
    login(client, admin)
    urls = [f"/screenings/{screening.id}", f"/screenings/{screening.id}/status",
            f"/screenings/{screening.id}/media/photo", f"/api/v1/screenings/{screening.id}"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert "PHQ-9" not in response.get_data(as_text=True), url
