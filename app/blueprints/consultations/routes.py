"""Routes of the care loop. Access goes through app.security.policy; work through services."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.blueprints.consultations import bp
from app.blueprints.consultations.forms import (
    DeclineForm,
    DiagnosisForm,
    MessageForm,
    ReportForm,
    RequestForm,
)
from app.blueprints.htmx import is_htmx
from app.ml.phq9 import ANSWER_OPTIONS, BANDS, PHQ9_ITEMS
from app.models._ids import parse_id
from app.models.care import Consultation, ConsultationStatus
from app.models.user import Role
from app.security.policy import (
    care_records_visible_to,
    chat_visible_to,
    doctor_keeps_record,
    doctor_treats,
    role_required,
)
from app.services import (
    chat,
    consultations,
    crisis,
    diagnoses,
    directory,
    evidence,
    followups,
    notifications,
    reports,
    severity,
)
from app.services.consultations import CareError

FIRST_AVAILABLE = "any"


def optional_url(endpoint: str, **values) -> str | None:
    """A link into another area, or None while that area is not installed."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def fail(error: CareError):
    abort(error.status, description=error.message)


def load_consultation(consultation_id: int) -> Consultation:
    """The consultation if this user may see it; 404 otherwise (no hint that it exists)."""
    consultation = consultations.get_for_user(current_user, consultation_id)
    if consultation is None:
        abort(404)
    return consultation


def treating(consultation_id: int) -> Consultation:
    consultation = load_consultation(consultation_id)
    if not doctor_treats(current_user, consultation):
        abort(404)
    return consultation


def audit_view(consultation: Consultation, target: str) -> None:
    consultations.record_view(current_user, consultation, target)


# --- Directory and requests ---------------------------------------------------------------

@bp.get("/doctors")
@login_required
def doctor_directory():
    language, specialty = request.args.get("language", ""), request.args.get("specialty", "")
    return render_template("consultations/directory.html",
                           doctors=directory.list_doctors(language or None, specialty or None),
                           options=directory.filter_options(), language=language, specialty=specialty)


def _request_form() -> RequestForm:
    form = RequestForm()
    form.doctor.choices = [SelectChoice(FIRST_AVAILABLE, "First available doctor")] + [
        SelectChoice(str(d.user_id), f"Dr {d.full_name} — {d.specialty}") for d in directory.list_doctors()
        if d.accepting_patients]
    form.screenings.choices = [
        SelectChoice(s.id, f"{s.created_at:%Y-%m-%d %H:%M} — {s.kind.value}, PHQ-9 {s.phq9_total}")
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
        if error.status == 409:
            flash(error.message, "error")
            return render_template("consultations/new.html", form=form), 409
        fail(error)
    flash("Your request was sent. You will be notified when the doctor answers.", "success")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id))


@bp.get("/consultations")
@role_required(Role.PATIENT, Role.DOCTOR)
def index():
    listed = consultations.consultations_of(current_user)
    consultations.record_reads(current_user, listed, "list")
    return render_template("consultations/index.html", consultations=listed,
                           unread=chat.unread_by_consultation(current_user))


# --- One consultation ----------------------------------------------------------------------

@bp.get("/consultations/<int:consultation_id>")
@role_required(Role.PATIENT, Role.DOCTOR)
def detail(consultation_id: int):
    consultation = load_consultation(consultation_id)
    is_doctor = current_user.role is Role.DOCTOR
    if not is_doctor:
        followups.link_new_screenings(current_user.id)
    audit_view(consultation, f"consultation:{consultation.id}")
    treats = is_doctor and doctor_treats(current_user, consultation)
    show_chat = chat_visible_to(current_user, consultation)
    own_drafts = is_doctor and doctor_keeps_record(current_user, consultation)
    shareable = [] if is_doctor else [
        s for s in consultations.shareable_screenings(current_user.id)
        if s.id not in {share.screening_id for share in consultation.active_shares}]
    return render_template(
        "consultations/detail.html", consultation=consultation, is_doctor=is_doctor, treats=treats,
        screenings=consultations.shared_screenings(consultation) if treats or not is_doctor else [],
        shareable=shareable, show_chat=show_chat, messages=chat.messages(consultation) if show_chat else [],
        message_form=MessageForm(), decline_form=DeclineForm(), report_form=ReportForm(),
        followup=followups.next_followup(consultation),
        reports=reports.reports_for(consultation, include_drafts=own_drafts),
        severity_label=diagnoses.severity_label, plan_labels=diagnoses.PLAN_LABELS,
        plan_plain=diagnoses.PLAN_PLAIN, recommended_action=diagnoses.recommended_action)


@bp.post("/consultations/<int:consultation_id>/accept")
@role_required(Role.DOCTOR)
def accept(consultation_id: int):
    consultation = load_consultation(consultation_id)
    try:
        consultations.accept(current_user, consultation)
    except CareError as error:
        fail(error)
    flash("Consultation accepted. You can now see the shared screenings and chat with the patient.",
          "success")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id))


@bp.post("/consultations/<int:consultation_id>/decline")
@role_required(Role.DOCTOR)
def decline(consultation_id: int):
    consultation = load_consultation(consultation_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        abort(400, description=" ".join(e for errors in form.errors.values() for e in errors))
    try:
        consultations.decline(current_user, consultation, form.reason.data)
    except CareError as error:
        fail(error)
    flash("Request declined; the patient sees your reason.", "info")
    return redirect(url_for("home.doctor"))


@bp.post("/consultations/<int:consultation_id>/close")
@role_required(Role.PATIENT, Role.DOCTOR)
def close(consultation_id: int):
    consultation = load_consultation(consultation_id)
    try:
        consultations.close(current_user, consultation)
    except CareError as error:
        fail(error)
    flash("Consultation closed. Its record stays available.", "info")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id))


@bp.post("/consultations/<int:consultation_id>/share")
@role_required(Role.PATIENT)
def share(consultation_id: int):
    consultation = load_consultation(consultation_id)
    screening_id = parse_id(request.form.get("screening_id"))
    if screening_id is None:
        abort(400, description="Choose a screening to share.")
    try:
        consultations.share_screening(current_user, consultation, screening_id)
    except CareError as error:
        fail(error)
    flash("Screening shared with your doctor.", "success")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id))


@bp.post("/consultations/<int:consultation_id>/shares/<int:share_id>/revoke")
@role_required(Role.PATIENT)
def revoke(consultation_id: int, share_id: int):
    consultation = load_consultation(consultation_id)
    try:
        consultations.revoke_share(current_user, consultation, share_id)
    except CareError as error:
        fail(error)
    flash("Sharing stopped: the doctor can no longer see that screening.", "info")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id))


# --- Chat ---------------------------------------------------------------------------------

def chat_of(consultation_id: int) -> Consultation:
    consultation = load_consultation(consultation_id)
    if not chat_visible_to(current_user, consultation):
        abort(404)
    return consultation


def _chat_update(consultation: Consultation):
    """The messages after the last one the page shows (`after`), to append to its log."""
    after = parse_id(request.values.get("after")) or 0
    new = chat.messages(consultation, after_id=after)
    return render_template("partials/care_chat_update.html", consultation=consultation, messages=new,
                           last_id=new[-1].id if new else after)


@bp.get("/consultations/<int:consultation_id>/messages")
@role_required(Role.PATIENT, Role.DOCTOR)
def messages(consultation_id: int):
    consultation = chat_of(consultation_id)
    if not is_htmx():
        return redirect(url_for("consultations.detail", consultation_id=consultation.id))
    consultations.record_reads(current_user, [consultation], "chat")
    return _chat_update(consultation)


@bp.post("/consultations/<int:consultation_id>/messages/read")
@role_required(Role.PATIENT, Role.DOCTOR)
def mark_messages_read(consultation_id: int):
    """Sent by the chat log once it is shown (a GET never marks anything read)."""
    consultation = chat_of(consultation_id)
    up_to = parse_id(request.form.get("up_to"))
    if up_to is None:
        abort(400, description="Say up to which message the chat was read.")
    chat.mark_read(current_user, consultation, up_to_id=up_to)
    if is_htmx():
        return "", 204
    return redirect(url_for("consultations.detail", consultation_id=consultation.id) + "#chat")


@bp.post("/consultations/<int:consultation_id>/messages")
@role_required(Role.PATIENT, Role.DOCTOR)
def post_message(consultation_id: int):
    consultation = load_consultation(consultation_id)
    form = MessageForm()
    if not form.validate_on_submit():
        abort(400, description=" ".join(e for errors in form.errors.values() for e in errors))
    try:
        chat.post_message(current_user, consultation, form.body.data)
    except CareError as error:
        fail(error)
    if is_htmx():
        consultations.record_reads(current_user, [consultation], "chat")
        return _chat_update(consultation)
    return redirect(url_for("consultations.detail", consultation_id=consultation.id) + "#chat")


@bp.post("/consultations/<int:consultation_id>/screening-request")
@role_required(Role.DOCTOR)
def request_screening(consultation_id: int):
    consultation = treating(consultation_id)
    try:
        chat.request_screening(current_user, consultation)
    except CareError as error:
        fail(error)
    flash("The patient was asked to take a new screening.", "success")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id))


# --- Shared screenings (doctor's view) ----------------------------------------------------

@bp.get("/consultations/<int:consultation_id>/screenings/<int:screening_id>")
@role_required(Role.DOCTOR)
def shared_screening(consultation_id: int, screening_id: int):
    consultation = treating(consultation_id)
    screening = consultations.shared_screening_for(current_user, consultation, screening_id)
    if screening is None:
        abort(404)
    audit_view(consultation, f"screening:{screening.id}")
    return render_template("consultations/screening.html", consultation=consultation, screening=screening,
                           items=list(zip(PHQ9_ITEMS, screening.phq9_answers or [], strict=False)),
                           answer_options=ANSWER_OPTIONS, severity_label=diagnoses.severity_label,
                           full_result_url=optional_url("screening.detail", screening_id=screening.id),
                           evidence_here=evidence.worth_here(screening),
                           severity_estimate=severity.estimate_for(screening))


@bp.post("/consultations/<int:consultation_id>/screenings/<int:screening_id>/acknowledge")
@role_required(Role.DOCTOR)
def acknowledge_crisis(consultation_id: int, screening_id: int):
    consultation = treating(consultation_id)
    screening = consultations.shared_screening_for(current_user, consultation, screening_id)
    if screening is None:
        abort(404)
    try:
        crisis.acknowledge(current_user, screening)
    except CareError as error:
        fail(error)
    flash("Noted: the patient's home no longer says that no doctor has read this screening.", "success")
    return redirect(url_for("consultations.shared_screening", consultation_id=consultation.id,
                            screening_id=screening.id), 303)


# --- Diagnosis ----------------------------------------------------------------------------

def _diagnosis_form(consultation: Consultation) -> DiagnosisForm:
    form = DiagnosisForm()
    form.severity.choices = [SelectChoice("", "—")] + [
        SelectChoice(band.key, f"{band.label} ({band.low}–{band.high})") for band in BANDS]
    return form


@bp.route("/consultations/<int:consultation_id>/diagnosis", methods=["GET", "POST"])
@role_required(Role.DOCTOR)
def diagnosis(consultation_id: int):
    consultation = treating(consultation_id)
    band = diagnoses.latest_band(consultation)
    form = _diagnosis_form(consultation)
    context = dict(consultation=consultation, band=band, severity_label=diagnoses.severity_label,
                   plan_labels=diagnoses.PLAN_LABELS,
                   min_days=current_app.config["FOLLOWUP_MIN_DAYS"],
                   max_days=current_app.config["FOLLOWUP_MAX_DAYS"])
    if request.method == "GET":
        audit_view(consultation, f"diagnosis:{consultation.id}")
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
        abort(409, description="A diagnosis can be recorded only in an accepted, open consultation.")
    if form.validate_on_submit():
        data = diagnoses.DiagnosisInput(
            outcome=form.outcome.data, severity=form.severity.data or None,
            override_reason=form.override_reason.data or "", notes=form.notes.data or "",
            plan=form.plan.data or None, plan_details=form.plan_details.data or "",
            followup_interval_days=form.followup_interval_days.data)
        errors = diagnoses.validate(data, band)
        if not errors:
            try:
                diagnoses.record(current_user, consultation, data)
            except CareError as error:
                fail(error)
            flash("Diagnosis recorded. The patient sees the outcome and plan.", "success")
            return redirect(url_for("consultations.detail", consultation_id=consultation.id))
        for name, message in errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
    return render_template("consultations/diagnosis.html", form=form, **context), 400


# --- Home panels and notifications (htmx fragments) ---------------------------------------

@bp.get("/care/panels/doctor")
@role_required(Role.DOCTOR)
def doctor_panel():
    if not care_records_visible_to(current_user):
        abort(404)
    inbox = consultations.doctor_inbox(current_user.id)
    active = followups.active_consultations(doctor_id=current_user.id)
    consultations.record_reads(current_user, inbox + active, "panel")
    return render_template("partials/care_doctor_panel.html", inbox=inbox, active=active,
                           watch=followups.doctor_watchlist(current_user.id),
                           unread=chat.unread_by_consultation(current_user))


@bp.get("/care/panels/patient")
@role_required(Role.PATIENT)
def patient_panel():
    return render_template("partials/care_patient_panel.html",
                           tasks=followups.patient_tasks(current_user.id),
                           consultations=consultations.consultations_of(current_user),
                           unread=chat.unread_by_consultation(current_user),
                           new_screening_url=optional_url("screening.new"))


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
