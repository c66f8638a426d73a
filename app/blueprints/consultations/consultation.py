"""One consultation: the list, its page, closing it, what the patient shares, and a shared
screening as the treating doctor sees it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.consultations import back_to_consultation, bp
from app.blueprints.consultations.forms import DeclineForm, MessageForm, ReportForm
from app.models._ids import parse_id
from app.models.user import Role
from app.security.policy import chat_visible_to, doctor_keeps_record, doctor_treats, role_required
from app.services import (
    care_access,
    chat,
    consultations,
    crisis,
    diagnoses,
    evidence,
    followups,
    reports,
    severity,
)
from app.web import clinical_text


@bp.get("/consultations")
@role_required(Role.PATIENT, Role.DOCTOR)
def index():
    listed = consultations.consultations_of(current_user)
    consultations.record_reads(current_user, listed, "list")
    return render_template("consultations/index.html", consultations=listed,
                           unread=chat.unread_by_consultation(current_user))


@bp.get("/consultations/<int:consultation_id>")
@role_required(Role.PATIENT, Role.DOCTOR)
def detail(consultation_id: int):
    consultation = care_access.consultation_for(current_user, consultation_id)
    is_doctor = current_user.role is Role.DOCTOR
    if not is_doctor:
        followups.link_new_screenings(current_user.id)
    consultations.record_view(current_user, consultation, f"consultation:{consultation.id}")
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


@bp.post("/consultations/<int:consultation_id>/close")
@role_required(Role.PATIENT, Role.DOCTOR)
def close(consultation_id: int):
    consultation = care_access.consultation_for(current_user, consultation_id)
    consultations.close(current_user, consultation)
    return back_to_consultation(consultation, _("Consultation closed. Its record stays available."), "info")


@bp.post("/consultations/<int:consultation_id>/share")
@role_required(Role.PATIENT)
def share(consultation_id: int):
    consultation = care_access.consultation_for(current_user, consultation_id)
    screening_id = parse_id(request.form.get("screening_id"))
    if screening_id is None:
        abort(400, description=_("Choose a screening to share."))
    consultations.share_screening(current_user, consultation, screening_id)
    return back_to_consultation(consultation, _("Screening shared with your doctor."))


@bp.post("/consultations/<int:consultation_id>/shares/<int:share_id>/revoke")
@role_required(Role.PATIENT)
def revoke(consultation_id: int, share_id: int):
    consultation = care_access.consultation_for(current_user, consultation_id)
    consultations.revoke_share(current_user, consultation, share_id)
    return back_to_consultation(
        consultation, _("Sharing stopped: the doctor can no longer see that screening."), "info")


@bp.get("/consultations/<int:consultation_id>/screenings/<int:screening_id>")
@role_required(Role.DOCTOR)
def shared_screening(consultation_id: int, screening_id: int):
    consultation = care_access.treated_by(current_user, consultation_id)
    screening = care_access.shared_screening(current_user, consultation, screening_id)
    consultations.record_view(current_user, consultation, f"screening:{screening.id}")
    return render_template("consultations/screening.html", consultation=consultation, screening=screening,
                           items=list(zip(clinical_text.items(), screening.phq9_answers or [], strict=False)),
                           answer_options=clinical_text.answer_options(),
                           severity_label=diagnoses.severity_label,
                           evidence_here=evidence.worth_here(screening),
                           severity_estimate=severity.estimate_for(screening))


@bp.post("/consultations/<int:consultation_id>/screenings/<int:screening_id>/acknowledge")
@role_required(Role.DOCTOR)
def acknowledge_crisis(consultation_id: int, screening_id: int):
    consultation = care_access.treated_by(current_user, consultation_id)
    screening = care_access.shared_screening(current_user, consultation, screening_id)
    crisis.acknowledge(current_user, screening)
    flash(_("Noted: the patient's home no longer says that no doctor has read this screening."), "success")
    return redirect(url_for("consultations.shared_screening", consultation_id=consultation.id,
                            screening_id=screening.id), 303)
