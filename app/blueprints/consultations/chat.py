"""The chat of a consultation: the log's htmx updates, read receipts, posting, and the doctor's
request for a new screening."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.consultations import back_to_consultation, bp
from app.blueprints.consultations.forms import MessageForm
from app.models._ids import parse_id
from app.models.care import Consultation
from app.models.user import Role
from app.security.policy import role_required
from app.services import care_access, chat, consultations
from app.web.forms import valid_submission
from app.web.htmx import is_htmx, render_page_or_fragment


def _chat_update(consultation: Consultation, page: str):
    """The messages after the last one the page shows (`after`), to append to its log."""
    after = parse_id(request.values.get("after")) or 0
    new = chat.messages(consultation, after_id=after)
    return render_page_or_fragment(page, "consultations/partials/chat_update.html",
                                   consultation=consultation, messages=new,
                                   last_id=new[-1].id if new else after)


@bp.get("/consultations/<int:consultation_id>/messages")
@role_required(Role.PATIENT, Role.DOCTOR)
def messages(consultation_id: int):
    consultation = care_access.chat_of(current_user, consultation_id)
    if is_htmx():
        consultations.record_reads(current_user, [consultation], "chat")
    return _chat_update(consultation, url_for("consultations.detail", consultation_id=consultation.id))


@bp.post("/consultations/<int:consultation_id>/messages/read")
@role_required(Role.PATIENT, Role.DOCTOR)
def mark_messages_read(consultation_id: int):
    """Sent by the chat log once it is shown (a GET never marks anything read)."""
    consultation = care_access.chat_of(current_user, consultation_id)
    up_to = parse_id(request.form.get("up_to"))
    if up_to is None:
        abort(400, description=_("Say up to which message the chat was read."))
    chat.mark_read(current_user, consultation, up_to_id=up_to)
    if is_htmx():
        return "", 204
    return redirect(url_for("consultations.detail", consultation_id=consultation.id) + "#chat")


@bp.post("/consultations/<int:consultation_id>/messages")
@role_required(Role.PATIENT, Role.DOCTOR)
def post_message(consultation_id: int):
    consultation = care_access.consultation_for(current_user, consultation_id)
    form = valid_submission(MessageForm())
    chat.post_message(current_user, consultation, form.body.data)
    if is_htmx():
        consultations.record_reads(current_user, [consultation], "chat")
    page = url_for("consultations.detail", consultation_id=consultation.id) + "#chat"
    return _chat_update(consultation, page)


@bp.post("/consultations/<int:consultation_id>/screening-request")
@role_required(Role.DOCTOR)
def request_screening(consultation_id: int):
    consultation = care_access.treated_by(current_user, consultation_id)
    chat.request_screening(current_user, consultation)
    return back_to_consultation(consultation, _("The patient was asked to take a new screening."))
