"""The landing page and each role's home."""

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.home import bp
from app.models.user import Role
from app.security.policy import can_see_patients, role_required
from app.services import caseload, crisis

HOME_BY_ROLE = {Role.PATIENT: "home.patient", Role.DOCTOR: "home.doctor", Role.ADMIN: "admin.index"}


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    return render_template("home/landing.html")


@bp.get("/patient")
@role_required(Role.PATIENT)
def patient():
    return render_template("home/patient.html", profile=current_user.patient_profile,
                           crisis=crisis.awaiting_doctor(current_user.id))


@bp.get("/doctor")
@role_required(Role.DOCTOR)
def doctor():
    # The home leads with the caseload: who needs attention first (verified doctors only).
    summary = caseload.caseload(current_user, caseload.Filters()) if can_see_patients(current_user) else None
    return render_template("home/doctor.html", profile=current_user.doctor_profile, caseload=summary)
