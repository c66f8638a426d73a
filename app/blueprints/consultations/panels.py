"""The care panels of the doctor's and the patient's home pages (htmx fragments)."""

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user

from app.blueprints.consultations import bp
from app.models.user import Role
from app.security.policy import care_records_visible_to, role_required
from app.services import chat, consultations, followups
from app.web.htmx import render_page_or_fragment


@bp.get("/care/panels/doctor")
@role_required(Role.DOCTOR)
def doctor_panel():
    if not care_records_visible_to(current_user):
        abort(404)
    inbox = consultations.doctor_inbox(current_user.id)
    active = followups.active_consultations(doctor_id=current_user.id)
    consultations.record_reads(current_user, inbox + active, "panel")
    return render_page_or_fragment(url_for("home.doctor"), "consultations/partials/doctor_panel.html",
                                   inbox=inbox, active=active,
                                   watch=followups.doctor_watchlist(current_user.id),
                                   unread=chat.unread_by_consultation(current_user))


@bp.get("/care/panels/patient")
@role_required(Role.PATIENT)
def patient_panel():
    return render_page_or_fragment(url_for("home.patient"), "consultations/partials/patient_panel.html",
                                   tasks=followups.patient_tasks(current_user.id),
                                   consultations=consultations.consultations_of(current_user),
                                   unread=chat.unread_by_consultation(current_user))
