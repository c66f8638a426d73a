"""/admin/doctors: verify, reject with a reason the applicant sees, revoke with immediate effect."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.user import VerificationStatus
from app.security.policy import can_see_patients
from tests import factories
from tests.helpers import csrf_token, login


def _admin_client(app, admin):
    client = app.test_client()
    login(client, admin)
    return client


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/doctors"), **data})


def _audit(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_pending_applications_show_licence_and_specialty(app, admin):
    applicant = factories.doctor(verified=False, name="Ada Applicant", specialty="Child psychiatry")
    factories.doctor(verified=True, name="Vera Verified")
    html = _admin_client(app, admin).get("/admin/doctors").get_data(as_text=True)
    row = html.split(f'id="doctor-{applicant.id}"')[1].split("</tr>")[0]
    assert "Ada Applicant" in row and applicant.doctor_profile.licence_number in row
    assert "Child psychiatry" in row
    assert "Vera Verified" not in html  # the default view is the pending queue
    verified = _admin_client(app, admin).get("/admin/doctors?status=verified")
    assert "Vera Verified" in verified.get_data(as_text=True)


def test_verify_lets_the_doctor_see_patients_and_is_audited(app, admin):
    applicant = factories.doctor(verified=False)
    doctor_client = app.test_client()
    login(doctor_client, applicant)
    assert "Awaiting verification" in doctor_client.get("/doctor").get_data(as_text=True)

    client = _admin_client(app, admin)
    response = _post(client, f"/admin/doctors/{applicant.id}/verify")
    assert response.status_code == 302
    next_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "appears in the doctor directory" in next_page
    db.session.expire_all()
    assert can_see_patients(applicant)
    assert applicant.doctor_profile.verified_by_id == admin.id
    assert "Verified" in doctor_client.get("/doctor").get_data(as_text=True)
    assert [(e.actor_id, e.target) for e in _audit("doctor.verify")][-1] == (admin.id, f"user:{applicant.id}")

    # Verifying again is refused with a clear 409.
    again = _post(client, f"/admin/doctors/{applicant.id}/verify")
    assert again.status_code == 409 and "already verified" in again.get_data(as_text=True)


def test_reject_needs_a_reason_and_the_applicant_sees_it(app, admin):
    applicant = factories.doctor(verified=False)
    client = _admin_client(app, admin)
    empty = _post(client, f"/admin/doctors/{applicant.id}/reject", reason="  ")
    assert empty.status_code == 400 and "Give a reason" in empty.get_data(as_text=True)

    reason = "Licence number not found in the national register."
    assert _post(client, f"/admin/doctors/{applicant.id}/reject", reason=reason).status_code == 302
    db.session.expire_all()
    assert applicant.doctor_profile.verification_status is VerificationStatus.REJECTED
    doctor_client = app.test_client()
    login(doctor_client, applicant)
    page = doctor_client.get("/doctor").get_data(as_text=True)
    assert "Application not approved" in page and reason in page
    assert _audit("doctor.reject")[-1].details == {"reason": reason}

    # A rejected application is not pending any more; it cannot be rejected twice.
    twice = _post(client, f"/admin/doctors/{applicant.id}/reject", reason="again")
    assert twice.status_code == 409 and "Only pending applications" in twice.get_data(as_text=True)


def test_revoke_removes_access_at_the_next_request(app, admin, doctor):
    doctor_client = app.test_client()
    login(doctor_client, doctor)
    assert can_see_patients(doctor)
    client = _admin_client(app, admin)
    assert _post(client, f"/admin/doctors/{doctor.id}/revoke", reason="Licence suspended.").status_code == 302
    db.session.expire_all()
    assert not can_see_patients(doctor)
    page = doctor_client.get("/doctor").get_data(as_text=True)
    assert "Verification revoked" in page and "Licence suspended." in page
    assert _audit("doctor.revoke")[-1].target == f"user:{doctor.id}"


def test_unknown_doctor_and_non_doctor_are_404(app, admin, patient):
    client = _admin_client(app, admin)
    for user_id in (999999, patient.id, admin.id):
        response = _post(client, f"/admin/doctors/{user_id}/verify")
        assert response.status_code == 404 and "no doctor account" in response.get_data(as_text=True)


def test_forged_verification_without_csrf_is_400(app, admin):
    applicant = factories.doctor(verified=False)
    client = _admin_client(app, admin)
    assert client.post(f"/admin/doctors/{applicant.id}/verify").status_code == 400
    db.session.expire_all()
    assert applicant.doctor_profile.verification_status is VerificationStatus.PENDING


def test_verified_doctor_appears_in_the_directory_when_it_exists(app, admin, patient):
    if "/doctors" not in {rule.rule for rule in app.url_map.iter_rules()}:
        return  # the directory belongs to the care loop; verified status is checked above
    applicant = factories.doctor(verified=False, name="Dora Directory")
    patient_client = app.test_client()
    login(patient_client, patient)
    assert "Dora Directory" not in patient_client.get("/doctors").get_data(as_text=True)
    _post(_admin_client(app, admin), f"/admin/doctors/{applicant.id}/verify")
    assert "Dora Directory" in patient_client.get("/doctors").get_data(as_text=True)
