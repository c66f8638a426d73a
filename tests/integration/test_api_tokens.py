"""API tokens: issued on their pages (shown once, stored hashed), scoped, expiring, revocable,
audited, accepted by /api/v1 as bearer credentials, and never worth more than their doctor."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models._time import utcnow
from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.security.audit import verify_chain
from app.services import api_tokens
from tests.helpers import client_for, post
from tests.integration.access_world import build_world

ALL_SCOPES = ["screenings:read", "reports:read", "fhir:read"]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def _secret_on(page: str) -> str:
    return re.search(r'id="token-secret"[^>]*value="(mlk_[^"]+)"', page).group(1)


def test_doctor_issues_a_personal_token_shown_once_and_stored_hashed(app):
    world = build_world()
    doctor = world.users["assigned_doctor"]
    client = client_for(app, doctor)
    response = post(client, "/account/api-tokens", {"name": "My script", "scopes": ["screenings:read"],
                                                    "days": "30"}, page="/account/api-tokens")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = _secret_on(response.get_data(as_text=True))
    token = db.session.scalar(select(ApiToken).where(ApiToken.principal_id == doctor.id))
    assert token.scopes == ["screenings:read"] and token.kind.value == "personal"
    assert secret not in (token.token_hash, token.prefix) and len(token.token_hash) == 64
    assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in again and "My script" in again

    api = app.test_client()
    ok = api.get(f"/api/v1/screenings/{world.screening_id}", headers=bearer(secret))
    assert ok.status_code == 200 and ok.json["id"] == world.screening_id
    assert "Set-Cookie" not in ok.headers  # no session is created for a bearer request
    db.session.refresh(token)
    assert token.last_used_at is not None
    used = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.used")).all()
    assert [(e.actor_id, e.patient_id, e.target) for e in used] == [
        (doctor.id, world.users["owner"].id, f"api_token:{token.id}")]
    assert used[0].details == {"endpoint": "screening.api_detail", "status": 200}  # no clinical values


def test_token_reads_no_more_than_its_doctor(app):
    world = build_world()
    mine = api_tokens.issue_personal(world.users["unassigned_doctor"], "x", ALL_SCOPES, 30).secret
    api = app.test_client()
    assert api.get(f"/api/v1/screenings/{world.screening_id}", headers=bearer(mine)).status_code == 404
    assert api.get(f"/api/v1/reports/{world.report_id}", headers=bearer(mine)).status_code == 404


def test_scope_expiry_revocation_and_bad_tokens_are_refused(app):
    world = build_world()
    doctor = world.users["assigned_doctor"]
    api = app.test_client()
    url = f"/api/v1/screenings/{world.screening_id}"
    reports_only = api_tokens.issue_personal(doctor, "reports", ["reports:read"], 30)
    refused = api.get(url, headers=bearer(reports_only.secret))
    assert refused.status_code == 403 and refused.json["error"] == "insufficient_scope"
    assert api.get(f"/api/v1/reports/{world.report_id}",
                   headers=bearer(reports_only.secret)).json["status"] == "final"

    for bad in ("nonsense", "mlk_" + "A" * 43, reports_only.secret[:-1] + "x"):
        response = api.get(url, headers=bearer(bad))
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")

    expiring = api_tokens.issue_personal(doctor, "old", ["screenings:read"], 30)
    expiring.token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api.get(url, headers=bearer(expiring.secret)).status_code == 401

    revoked = api_tokens.issue_personal(doctor, "gone", ["screenings:read"], 30)
    assert api.get(url, headers=bearer(revoked.secret)).status_code == 200
    client = client_for(app, doctor)
    post(client, f"/account/api-tokens/{revoked.token.id}/revoke", page="/account/api-tokens")
    assert api.get(url, headers=bearer(revoked.secret)).status_code == 401
    refusals = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "api_token.refused"))
    assert {d["reason"] for d in refusals} == {"insufficient_scope", "invalid_token"}
    assert verify_chain() is None


def test_bearer_is_ignored_on_html_pages_and_without_one_the_api_answers_401(app):
    world = build_world()
    secret = api_tokens.issue_personal(world.users["assigned_doctor"], "x", ALL_SCOPES, 30).secret
    api = app.test_client()
    page = api.get(f"/consultations/{world.consultation_id}", headers=bearer(secret))
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
    assert api.get(f"/api/v1/screenings/{world.screening_id}").status_code == 401


def test_admin_issues_an_integration_token_bound_to_a_doctor(app):
    world = build_world()
    doctor, admin = world.users["assigned_doctor"], world.users["admin"]
    client = client_for(app, admin)
    page = client.get("/admin/integrations").get_data(as_text=True)
    assert world.users["unverified_doctor"].email not in page  # only verified doctors to act for
    form = {"name": "Hospital EHR", "doctor_id": str(doctor.id), "scopes": ["fhir:read", "screenings:read"],
            "days": "365"}
    response = post(client, "/admin/integrations", form, page="/admin/integrations")
    assert response.status_code == 200
    secret = _secret_on(response.get_data(as_text=True))
    api = app.test_client()
    url = f"/api/v1/screenings/{world.screening_id}"
    assert api.get(url, headers=bearer(secret)).status_code == 200
    # The doctor sees it among the tokens acting for them, and may revoke it.
    doctor_client = client_for(app, doctor)
    assert "Hospital EHR" in doctor_client.get("/account/api-tokens").get_data(as_text=True)
    # Once the doctor loses verification the token reads nothing, as the doctor would.
    doctor.doctor_profile.verification_status = doctor.doctor_profile.verification_status.REVOKED
    db.session.commit()
    assert api.get(url, headers=bearer(secret)).status_code == 404


def test_integration_needs_a_verified_doctor_and_revocation_is_limited(app):
    world = build_world()
    client = client_for(app, world.users["admin"])
    response = post(client, "/admin/integrations",
                    {"name": "EHR", "doctor_id": str(world.users["unverified_doctor"].id),
                     "scopes": ["fhir:read"], "days": "365"}, page="/admin/integrations")
    assert response.status_code == 400
    assert db.session.scalar(select(ApiToken.id)) is None
    token = api_tokens.issue_personal(world.users["assigned_doctor"], "mine", ["fhir:read"], 30).token
    other = client_for(app, world.users["unassigned_doctor"])
    denied = post(other, f"/account/api-tokens/{token.id}/revoke", page="/account/api-tokens")
    assert denied.status_code == 404
    # Admins revoke integrations, not a doctor's personal token.
    denied = post(client, f"/admin/integrations/{token.id}/revoke", page="/admin/integrations")
    assert denied.status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None


def test_issuing_with_bad_input_is_a_clear_400(app):
    world = build_world()
    client = client_for(app, world.users["assigned_doctor"])
    for data in ({"name": "", "scopes": ["fhir:read"], "days": "30"},
                 {"name": "x", "scopes": [], "days": "30"},
                 {"name": "x", "scopes": ["admin:all"], "days": "30"},
                 {"name": "x", "scopes": ["fhir:read"], "days": "9999"}):
        response = post(client, "/account/api-tokens", data, page="/account/api-tokens")
        assert response.status_code == 400, data
        assert "token-secret" not in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken.id)) is None
