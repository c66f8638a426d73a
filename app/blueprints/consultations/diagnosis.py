"""The treating doctor's diagnosis: outcome, severity, plan and follow-up interval."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.blueprints.consultations import back_to_consultation, bp
from app.blueprints.consultations.forms import DiagnosisForm
from app.clinical.phq9 import BANDS
from app.models.care import ConsultationStatus
from app.models.user import Role
from app.security.policy import role_required
from app.services import care_access, consultations, diagnoses


def _diagnosis_form() -> DiagnosisForm:
    form = DiagnosisForm()
    form.severity.choices = [SelectChoice("", "—")] + [
        SelectChoice(band.key, f"{band.label} ({band.low}–{band.high})") for band in BANDS]
    return form


@bp.route("/consultations/<int:consultation_id>/diagnosis", methods=["GET", "POST"])
@role_required(Role.DOCTOR)
def diagnosis(consultation_id: int):
    consultation = care_access.treated_by(current_user, consultation_id)
    band = diagnoses.latest_band(consultation)
    form = _diagnosis_form()
    context = dict(consultation=consultation, band=band, severity_label=diagnoses.severity_label,
                   plan_labels=diagnoses.PLAN_LABELS,
                   min_days=current_app.config["FOLLOWUP_MIN_DAYS"],
                   max_days=current_app.config["FOLLOWUP_MAX_DAYS"])
    if request.method == "GET":
        consultations.record_view(current_user, consultation, f"diagnosis:{consultation.id}")
        current = consultation.current_diagnosis
        form.severity.data = (current.severity if current and current.severity else band) or ""
        form.followup_interval_days.data = (current.followup_interval_days if current and current.confirmed
                                            else current_app.config["FOLLOWUP_DEFAULT_DAYS"])
        if current is not None:
            form.outcome.data = current.outcome.value
            form.plan.data = current.plan.value if current.plan else ""
            form.plan_details.data = current.plan_details
        return render_template("consultations/diagnosis.html", form=form, **context)
    if consultation.status is not ConsultationStatus.ACCEPTED:
        abort(409, description=_("A diagnosis can be recorded only in an accepted, open consultation."))
    if form.validate_on_submit():
        data = diagnoses.DiagnosisInput(
            outcome=form.outcome.data, severity=form.severity.data or None,
            override_reason=form.override_reason.data or "", notes=form.notes.data or "",
            plan=form.plan.data or None, plan_details=form.plan_details.data or "",
            followup_interval_days=form.followup_interval_days.data)
        errors = diagnoses.validate(data, band)
        if not errors:
            diagnoses.record(current_user, consultation, data)
            return back_to_consultation(consultation,
                                        _("Diagnosis recorded. The patient sees the outcome and plan."))
        for name, message in errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
    return render_template("consultations/diagnosis.html", form=form, **context), 400
