"""Caseload routes: the table (page, htmx fragment, CSV), its one-click actions, and the
treat-to-target prompts of a consultation. Access through app.security.policy."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.blueprints.caseload import bp
from app.blueprints.caseload.forms import DismissPromptForm, FilterForm, FollowupForm
from app.models.care import Consultation
from app.models.user import Role
from app.security.policy import can_see_patients, role_required
from app.services import care_access, caseload, caseload_export, chat, diagnoses, episodes
from app.web.forms import errors_in
from app.web.htmx import render_page_or_fragment


def _verified_doctor() -> None:
    if not can_see_patients(current_user):
        abort(403, description=_("Only verified doctors have a caseload."))


def _filters(args: MultiDict) -> caseload.Filters:
    form = FilterForm(formdata=args)
    if not form.validate():
        abort(400, description=errors_in(form))
    return _from_form(form)


def _from_form(form: FilterForm) -> caseload.Filters:
    return caseload.Filters(status=form.status.data or "", overdue=form.overdue.data,
                            flagged=form.flagged.data, past=form.past.data,
                            q=(form.q.data or "").strip(), sort=form.sort.data or "attention",
                            page=form.page.data or 1)


def _treated(consultation_id: int) -> Consultation:
    """A consultation this doctor treats; 404 otherwise (no hint that it exists)."""
    _verified_doctor()
    return care_access.treated_by(current_user, consultation_id)


def _back_to_caseload():
    """Back to the caseload as the doctor had filtered it (the query is re-validated)."""
    query = request.form.get("return_query", "")
    form = FilterForm(formdata=MultiDict([(k, v) for k, values in parse_qs(query).items() for v in values]))
    # The action is done: a mangled return address only loses the filters.
    filters = _from_form(form) if form.validate() else caseload.Filters()
    return redirect(url_for("caseload.index", **filters.query()))


@bp.get("/doctor/caseload")
@role_required(Role.DOCTOR)
def index():
    _verified_doctor()
    filters = _filters(request.args)
    form = FilterForm(formdata=request.args)
    context = dict(caseload=caseload.caseload(current_user, filters), filters=filters, form=form,
                   return_query=request.query_string.decode())
    return render_page_or_fragment("caseload/index.html", "caseload/partials/results.html", **context)


@bp.get("/doctor/caseload.csv")
@role_required(Role.DOCTOR)
def export():
    _verified_doctor()
    body = caseload_export.export_csv(current_user, _filters(request.args))
    response = make_response(body)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = f'attachment; filename="moodlens-caseload-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/doctor/caseload/<int:consultation_id>/screening-request")
@role_required(Role.DOCTOR)
def request_screening(consultation_id: int):
    consultation = _treated(consultation_id)
    chat.request_screening(current_user, consultation)
    flash(_("%(name)s was asked to take a new screening.", name=consultation.patient.display_name), "success")
    return _back_to_caseload()


@bp.route("/doctor/caseload/<int:consultation_id>/followup", methods=["GET", "POST"])
@role_required(Role.DOCTOR)
def followup(consultation_id: int):
    consultation = _treated(consultation_id)
    form = FollowupForm()
    low, high = current_app.config["FOLLOWUP_MIN_DAYS"], current_app.config["FOLLOWUP_MAX_DAYS"]
    form.set_limits(low, high)
    current = consultation.current_diagnosis
    context = dict(consultation=consultation, form=form, low=low, high=high,
                   return_query=request.values.get("return_query", ""),
                   diagnosed=current is not None and current.confirmed)
    if request.method == "GET":
        form.days.data = (current.followup_interval_days if context["diagnosed"]
                          else current_app.config["FOLLOWUP_DEFAULT_DAYS"])
        return render_template("caseload/followup.html", **context)
    if not form.validate_on_submit():
        return render_template("caseload/followup.html", **context), 400
    diagnoses.reschedule_followup(current_user, consultation, form.days.data)
    flash(_("Next follow-up screening for %(name)s set in %(days)d days.",
            name=consultation.patient.display_name, days=form.days.data), "success")
    return _back_to_caseload()


# --- Treat-to-target prompts on the consultation page (an htmx fragment) ------------------------

def _prompts_fragment(consultation: Consultation, flashed: tuple[str, str] | None = None):
    return render_page_or_fragment(url_for("consultations.detail", consultation_id=consultation.id),
                                   "caseload/partials/prompts.html", flashed=flashed,
                                   consultation=consultation, prompts=episodes.open_prompts(consultation),
                                   form=DismissPromptForm())


@bp.get("/consultations/<int:consultation_id>/prompts")
@role_required(Role.DOCTOR)
def prompts(consultation_id: int):
    return _prompts_fragment(_treated(consultation_id))


@bp.post("/consultations/<int:consultation_id>/prompts/dismiss")
@role_required(Role.DOCTOR)
def dismiss_prompt(consultation_id: int):
    consultation = _treated(consultation_id)
    form = DismissPromptForm()
    if not form.validate_on_submit() or not form.screening_id.data.isdigit():
        abort(400, description=errors_in(form)
              or "That prompt could not be read; reload the page.")
    episodes.dismiss_prompt(current_user, consultation, form.kind.data, int(form.screening_id.data),
                            form.reason.data)
    return _prompts_fragment(consultation,
                             flashed=(_("Prompt dismissed; your reason is kept with the record."), "info"))
