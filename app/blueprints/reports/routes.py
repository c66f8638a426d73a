"""Reports (drafted and finalised by the treating doctor) as HTML and PDF, and the patient's history."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.consultations.forms import ReportForm
from app.blueprints.reports import bp
from app.models.care import Report, ReportStatus
from app.models.user import Role
from app.security.policy import role_required
from app.services import care_access, consultations, reports
from app.web.forms import valid_submission


def load_report(report_id: int) -> Report:
    report = reports.get_for_user(current_user, report_id)
    if report is None:
        abort(404)
    return report


def _back_to_report(report: Report, message: str):
    """After an action on a report: its outcome flashed, and the report's page (that version's)."""
    flash(message, "success")
    return redirect(url_for("reports.show", report_id=report.id))


@bp.post("/consultations/<int:consultation_id>/reports")
@role_required(Role.DOCTOR)
def create(consultation_id: int):
    consultation = care_access.treated_by(current_user, consultation_id)
    form = valid_submission(ReportForm())
    report = reports.create(current_user, consultation, form.period_start.data, form.period_end.data,
                            form.comments.data or "")
    return _back_to_report(report, _("Draft report created. Review it, then finalise it for the patient."))


@bp.get("/reports/<int:report_id>")
@role_required(Role.PATIENT, Role.DOCTOR)
def show(report_id: int):
    report = load_report(report_id)
    consultations.record_view(current_user, report.consultation, f"report:{report.id}")
    form = ReportForm(comments=report.comments)
    amendment = reports.amended_by(report)
    visible_amendment = amendment if amendment and reports.get_for_user(current_user, amendment.id) else None
    return render_template("reports/report.html", form=form, frozen_page=reports.frozen_page(report),
                           amended_by=visible_amendment, **reports.content(report))


@bp.post("/reports/<int:report_id>")
@role_required(Role.DOCTOR)
def update(report_id: int):
    report = load_report(report_id)
    form = valid_submission(ReportForm())
    reports.update_comments(current_user, report, form.comments.data or "")
    return _back_to_report(report, _("Comments saved."))


def render_final(report: Report) -> tuple[str, bytes]:
    """The page and the PDF of a report being finalised: rendered once, kept from then on."""
    content = reports.content(report)
    pdf = reports.render_pdf(render_template("reports/report_pdf.html", **content), base_url=request.url_root)
    return render_template("reports/partials/body.html", **content), pdf


@bp.post("/reports/<int:report_id>/finalise")
@role_required(Role.DOCTOR)
def finalise(report_id: int):
    report = load_report(report_id)
    reports.finalise(current_user, report, render=render_final)
    return _back_to_report(report, _("Report finalised; the patient can now read it."))


@bp.post("/reports/<int:report_id>/amend")
@role_required(Role.DOCTOR)
def amend(report_id: int):
    report = load_report(report_id)
    amendment = reports.amend(current_user, report)
    return _back_to_report(amendment, _("Version %(new)d drafted; the final version %(final)d stays "
                                        "as it was.", new=amendment.version, final=report.version))


@bp.get("/reports/<int:report_id>.pdf")
@role_required(Role.PATIENT, Role.DOCTOR)
def pdf(report_id: int):
    report = load_report(report_id)
    consultations.record_view(current_user, report.consultation, f"report:{report.id}:pdf")
    pdf = reports.frozen_pdf(report) or reports.render_pdf(
        render_template("reports/report_pdf.html", **reports.content(report)), base_url=request.url_root)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    state = "draft-" if report.status is ReportStatus.DRAFT else ""
    response.headers["Content-Disposition"] = f'attachment; filename="moodlens-report-{state}{report.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/patient/history")
@role_required(Role.PATIENT)
def patient_history():
    return render_template("reports/history.html", **reports.patient_history(current_user))
