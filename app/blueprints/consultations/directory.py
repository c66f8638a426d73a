"""The doctor directory a patient chooses from."""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from app.blueprints.consultations import bp
from app.services import directory


@bp.get("/doctors")
@login_required
def doctor_directory():
    language, specialty = request.args.get("language", ""), request.args.get("specialty", "")
    return render_template("consultations/directory.html",
                           doctors=directory.list_doctors(language or None, specialty or None),
                           options=directory.filter_options(), language=language, specialty=specialty)
