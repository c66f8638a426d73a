"""Asking for a consultation, and the doctor's answer to the request."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.blueprints.consultations import back_to_consultation, bp
from app.blueprints.consultations.forms import DeclineForm, RequestForm
from app.i18n.marker import N_
from app.models._ids import parse_id
from app.models.screening import ScreeningKind
from app.models.user import Role
from app.security.policy import role_required
from app.services import care_access, consultations, directory
from app.services.consultations import CareError
from app.web.forms import valid_submission
from app.web.i18n import localtime

FIRST_AVAILABLE = "any"
KIND_LABELS = {ScreeningKind.PHOTO: N_("photo"), ScreeningKind.CLIP: N_("clip"),
               ScreeningKind.QUESTIONNAIRE: N_("questionnaire only")}


def _request_form() -> RequestForm:
    form = RequestForm()
    form.doctor.choices = [SelectChoice(FIRST_AVAILABLE, _("First available doctor"))] + [
        SelectChoice(str(d.user_id),
                     _("Dr %(name)s — %(specialty)s", name=d.full_name, specialty=d.specialty))
        for d in directory.list_doctors() if d.accepting_patients]
    # Each screening by when it was taken, in the patient's own time zone and language.
    form.screenings.choices = [
        SelectChoice(s.id, _("%(when)s — %(kind)s, PHQ-9 %(total)s", when=localtime(s.created_at),
                             kind=_(KIND_LABELS[s.kind]), total=s.phq9_total))
        for s in consultations.shareable_screenings(current_user.id)]
    return form


@bp.route("/consultations/new", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def new_consultation():
    form = _request_form()
    if request.method == "GET":
        form.doctor.data = request.args.get("doctor", FIRST_AVAILABLE)
        wanted = request.args.get("screening")
        if wanted is not None:
            wanted = parse_id(wanted)
            if wanted not in {choice.value for choice in form.screenings.choices}:
                abort(404)
            form.screenings.data = [wanted]
        return render_template("consultations/new.html", form=form)
    if not form.validate_on_submit():
        return render_template("consultations/new.html", form=form), 400
    doctor_id = None if form.doctor.data == FIRST_AVAILABLE else int(form.doctor.data)
    try:
        consultation = consultations.request_consultation(current_user, doctor_id, form.screenings.data or [],
                                                          form.message.data or "")
    except CareError as error:
        if error.status != 409:
            raise
        # A request already open with that doctor: the form again, with what the patient typed.
        flash(error.message, "error")
        return render_template("consultations/new.html", form=form), 409
    return back_to_consultation(consultation,
                                _("Your request was sent. You will be notified when the doctor answers."))


@bp.post("/consultations/<int:consultation_id>/accept")
@role_required(Role.DOCTOR)
def accept(consultation_id: int):
    consultation = care_access.consultation_for(current_user, consultation_id)
    consultations.accept(current_user, consultation)
    return back_to_consultation(consultation, _("Consultation accepted. You can now see the shared "
                                                "screenings and chat with the patient."))


@bp.post("/consultations/<int:consultation_id>/decline")
@role_required(Role.DOCTOR)
def decline(consultation_id: int):
    consultation = care_access.consultation_for(current_user, consultation_id)
    form = valid_submission(DeclineForm())
    consultations.decline(current_user, consultation, form.reason.data)
    flash(_("Request declined; the patient sees your reason."), "info")
    return redirect(url_for("home.doctor"))
