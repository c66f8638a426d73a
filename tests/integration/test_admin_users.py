"""/admin/users: search, deactivate (sessions end at once) and reactivate."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from tests import factories
from tests.helpers import csrf_token, login


def _admin_client(app, admin):
    client = app.test_client()
    login(client, admin)
    return client


def _post(client, url):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/users")})


def test_search_by_email_and_role(app, admin):
    factories.patient(email="alice@clinic.example")
    factories.patient(email="bob@clinic.example")
    factories.doctor(email="alice.doc@clinic.example")
    client = _admin_client(app, admin)
    html = client.get("/admin/users?email=ALICE").get_data(as_text=True)
    assert "alice@clinic.example" in html and "alice.doc@clinic.example" in html
    assert "bob@clinic.example" not in html
    html = client.get("/admin/users?email=alice&role=doctor").get_data(as_text=True)
    assert "alice.doc@clinic.example" in html and "alice@clinic.example" not in html
    # LIKE wildcards are literal characters in the search.
    assert "No account matches" in client.get("/admin/users?email=%25").get_data(as_text=True)
    # Nonsense filters are ignored, not a 500.
    assert client.get("/admin/users?role=wizard&status=zzz&page=-3").status_code == 200


def test_pagination(app, admin):
    for _ in range(26):
        factories.patient()
    client = _admin_client(app, admin)
    first = client.get("/admin/users?role=patient").get_data(as_text=True)
    assert "Page 1 of 2" in first
    next_link = first.split('rel="next" href="')[1].split('"')[0]
    assert "role=patient" in next_link and "page=2" in next_link
    second = client.get("/admin/users?role=patient&page=2").get_data(as_text=True)
    assert second.count('data-email="') == 1


def test_deactivated_user_is_logged_out_immediately_and_can_be_reactivated(app, admin, patient):
    patient_client = app.test_client()
    login(patient_client, patient)
    assert patient_client.get("/patient").status_code == 200

    client = _admin_client(app, admin)
    assert _post(client, f"/admin/users/{patient.id}/deactivate").status_code == 302
    response = patient_client.get("/patient")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # And cannot log back in.
    token = csrf_token(patient_client)
    refused = patient_client.post("/auth/login", data={"email": patient.email, "password": factories.PASSWORD,
                                                       "csrf_token": token})
    assert refused.status_code != 302

    assert _post(client, f"/admin/users/{patient.id}/reactivate").status_code == 302
    again = app.test_client()
    login(again, patient)
    assert again.get("/patient").status_code == 200
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target == f"user:{patient.id}").order_by(AuditEvent.id)).all()
    assert actions == ["user.deactivate", "user.reactivate"]


def test_refusals_are_clear_4xx(app, admin, patient):
    client = _admin_client(app, admin)
    own = _post(client, f"/admin/users/{admin.id}/deactivate")
    assert own.status_code == 409 and "your own account" in own.get_data(as_text=True)
    assert _post(client, "/admin/users/999999/deactivate").status_code == 404
    assert _post(client, f"/admin/users/{patient.id}/reactivate").status_code == 409
    assert client.post(f"/admin/users/{patient.id}/deactivate").status_code == 400  # no CSRF token
    db.session.expire_all()
    assert patient.active


def test_reset_second_factor_ends_sessions_and_asks_for_enrolment(app, admin, doctor):
    doctor_client = app.test_client()
    login(doctor_client, doctor)
    assert doctor_client.get("/doctor").status_code == 200
    client = _admin_client(app, admin)
    assert _post(client, f"/admin/users/{doctor.id}/reset-second-factor").status_code == 302
    db.session.expire_all()
    assert not doctor.mfa_enabled and doctor.totp_secret is None
    assert "/auth/login" in doctor_client.get("/doctor").headers["Location"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.mfa_reset")).one()
    assert (event.actor_id, event.target) == (admin.id, f"user:{doctor.id}")
    again = _post(client, f"/admin/users/{doctor.id}/reset-second-factor")
    assert again.status_code == 409 and "no second factor" in again.get_data(as_text=True)


def test_after_an_action_the_same_search_is_shown_but_never_another_site(app, admin, patient):
    client = _admin_client(app, admin)
    token = csrf_token(client, "/admin/users")
    same = client.post(f"/admin/users/{patient.id}/deactivate", data={"csrf_token": token},
                       headers={"Referer": "http://localhost/admin/users?email=pat&role=patient"})
    assert same.headers["Location"] == "/admin/users?email=pat&role=patient"
    other = client.post(f"/admin/users/{patient.id}/reactivate", data={"csrf_token": token},
                        headers={"Referer": "https://evil.example/admin/users?email=pat"})
    assert other.headers["Location"] == "/admin/users"
