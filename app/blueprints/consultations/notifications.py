"""The notifications page and marking them read."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.consultations import bp
from app.models.user import Role
from app.security.policy import role_required
from app.services import notifications


@bp.get("/notifications")
@role_required(Role.PATIENT, Role.DOCTOR)
def notifications_page():
    items = notifications.recent(current_user)
    return render_template("consultations/notifications.html", items=items)


@bp.post("/notifications/read")
@role_required(Role.PATIENT, Role.DOCTOR)
def notifications_read():
    notifications.mark_all_read(current_user)
    return redirect(url_for("consultations.notifications_page"))
