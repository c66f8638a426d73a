"""Screening pages: consent, new screening, live progress, result, history, media, JSON."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.screening import bp, presenters
from app.blueprints.screening.forms import UNANSWERED, ScreeningForm
from app.clinical.phq9 import BANDS_BY_KEY
from app.clinical.triage import is_doctor_suggested
from app.jobs.analysis_queue import ensure_enqueued
from app.models.api_token import TokenScope
from app.models.screening import Screening
from app.models.user import Role
from app.security.media_crypto import MediaDecryptionError
from app.security.policy import activation_map_visible_to, role_required
from app.services import activation_maps, consent, evidence, followups, screenings
from app.services.plugin_settings import list_plugins
from app.storage import held_uploads, media_store
from app.web import clinical_text
from app.web.bearer import api_scope, note_patient
from app.web.htmx import render_page_or_fragment
from app.web.negotiation import wants_json

# htmx stops a polling element when the response has this status (and still swaps it).
STOP_POLLING = 286


def _screening_or_404(screening_id: int) -> Screening:
    screening = screenings.get_for_user(current_user, screening_id)
    if screening is None:
        abort(404)
    return screening


# --- consent ------------------------------------------------------------------------------


@bp.route("/screenings/consent", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def consent_page():
    if request.method == "POST":
        consent.grant(current_user)
        flash(_("Thank you. You can now take a screening."), "success")
        return redirect(url_for("screening.new"))
    return render_template(
        "screening/consent.html",
        record=consent.active_screening_consent(current_user),
        retention=current_app.config["MEDIA_RETENTION"],
    )


@bp.post("/screenings/consent/withdraw")
@role_required(Role.PATIENT)
def consent_withdraw():
    if consent.withdraw(current_user):
        flash(_("Your consent is withdrawn. No new screening can be taken until you consent again."), "info")
    return redirect(url_for("screening.consent_page"))


# --- taking a screening -------------------------------------------------------------------


def _render_new(form: ScreeningForm, status: int = 200, error: str | None = None,
                held_name: str | None = None):
    return render_template(
        "screening/new.html",
        form=form,
        error=error,
        held_name=held_name,
        stem=clinical_text.stem(),
        difficulty_question=clinical_text.difficulty_question(),
        difficulty_options=clinical_text.difficulty_options(),
        record_seconds=current_app.config["RECORD_MAX_SECONDS"],
        max_photo_mb=current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024),
        max_clip_mb=current_app.config["MAX_CLIP_BYTES"] // (1024 * 1024),
        share_with=followups.auto_share_consultations(current_user.id),
        max_photo_bytes=current_app.config["MAX_PHOTO_BYTES"],
        max_clip_bytes=current_app.config["MAX_CLIP_BYTES"],
    ), status


def _form_message(form: ScreeningForm) -> str:
    """What to fix, in one line: unanswered questions by number, then any other error."""
    unanswered, other = [], []
    for name, errors in form.errors.items():
        if name[:1] == "q" and name[1:].isdigit():
            if errors[0] == UNANSWERED:
                unanswered.append(name[1:])
            else:
                other.append(_("question %(number)s: %(error)s", number=name[1:], error=errors[0]))
        else:
            other.append(f"{form[name].label.text}: {errors[0]}")
    if len(unanswered) == 1:
        other.insert(0, _("question %(number)s still needs an answer", number=unanswered[0]))
    elif unanswered:
        other.insert(0, _("questions %(numbers)s and %(last)s still need an answer",
                          numbers=", ".join(unanswered[:-1]), last=unanswered[-1]))
    return _("Please check the form — %(problems)s.", problems="; ".join(other))


def _keep_upload(form: ScreeningForm) -> str | None:
    """The form came back with an error: keep its photo or clip (a new one replaces the one
    kept before) so the patient need not choose it again; the kept file's name, or None."""
    if not form.with_face:
        return None
    upload = form.media.data
    data = upload.read() if upload else b""
    if data and len(data) <= max(current_app.config["MAX_PHOTO_BYTES"], current_app.config["MAX_CLIP_BYTES"]):
        held_uploads.discard(current_user.id, form.held_upload.data)
        form.held_upload.data = held_uploads.hold(current_user.id, data, upload.filename)
    kept = held_uploads.load(current_user.id, form.held_upload.data)
    if kept is None:
        form.held_upload.data = ""
        return None
    return kept[1]


def _chosen_media(form: ScreeningForm) -> tuple[bytes | None, str | None]:
    """(bytes, file name) to analyse: a file chosen now, else the one kept from the last try."""
    if not form.with_face:  # questionnaire only: a file chosen before switching is never read or stored
        return None, None
    if form.media.data:
        return form.media.data.read(), form.media.data.filename
    kept = held_uploads.load(current_user.id, form.held_upload.data)
    if kept is None:
        raise screenings.ScreeningError(
            _("The photo or clip you chose earlier is no longer kept (we keep it for an hour). "
              "Please choose it again."), 422)
    return kept


@bp.route("/screenings/new", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def new():
    if consent.active_screening_consent(current_user) is None:
        if wants_json():
            return jsonify(error={"status": 403, "message": screenings.ConsentRequired().message}), 403
        flash(_("Before your first screening, please read how MoodLens uses your photo or clip."), "info")
        return redirect(url_for("screening.consent_page"))
    form = ScreeningForm()
    if request.method == "GET":
        return _render_new(form)
    if not form.validate():
        message = _form_message(form)
        if wants_json():
            return jsonify(error={"status": 422, "message": message, "fields": form.errors}), 422
        return _render_new(form, 422, message, _keep_upload(form))
    try:
        media_bytes, filename = _chosen_media(form)
        screening = screenings.submit_screening(
            current_user, media_bytes, filename,
            form.answers, form.difficulty.data, share_with_care=form.shares_with_care,
        )
    except screenings.ScreeningError as error:
        if wants_json():
            return jsonify(error={"status": error.status, "message": error.message}), error.status
        held_uploads.discard(current_user.id, form.held_upload.data)  # what failed: choose again
        return _render_new(form, error.status, error.message)
    held_uploads.discard(current_user.id, form.held_upload.data)  # used, or replaced by a new file
    location = url_for("screening.detail", screening_id=screening.id)
    # "Submit and talk to a doctor now" (the crisis panel): straight to the request, this screening ticked.
    talk_now = request.form.get("then") == "doctor"
    next_url = (presenters.consultation_url(screening) if talk_now else None) or location
    if wants_json():
        return (
            jsonify(id=screening.id, status=screening.status.value, url=location, urgent=screening.urgent,
                    next=next_url),
            201,
            {"Location": location},
        )
    return redirect(next_url, 303)


# --- result, progress, retry --------------------------------------------------------------


def _context(screening: Screening) -> dict:
    reasons = presenters.cta_reasons(screening)
    return {
        "screening": screening,
        "phq9": clinical_text.result(presenters.phq9_of(screening)),
        "band": clinical_text.band(BANDS_BY_KEY[screening.phq9_band]),
        "items": presenters.phq9_items(screening),
        "facial": presenters.facial_view(screening),
        "evidence_here": evidence.worth_here(screening) if screening.affect_indicator is not None else None,
        "cta_reasons": reasons,
        # PHQ-9 reasons are known at submission: that call to action sits at the top of the page.
        "cta_phq9": is_doctor_suggested(screening.phq9_total, screening.phq9_item9),
        "consultation_url": presenters.consultation_url(screening) if reasons else None,
        "crisis_resources": current_app.config["CRISIS_RESOURCES"],
        # Asking for the state renders the map on a doctor's first visit (see the service).
        "activation_map": activation_maps.state(screening)
        if screening.status.finished and activation_map_visible_to(current_user, screening)
        else None,
        # Doctors reach this page through the care loop: no "your" wording, no patient-only links.
        "own": current_user.id == screening.patient_id,
        "sharing": followups.sharing_of(screening) if current_user.id == screening.patient_id else None,
    }


@bp.get("/screenings/<int:screening_id>")
@login_required
def detail(screening_id: int):
    screening = _screening_or_404(screening_id)
    return render_template("screening/detail.html", **_context(screening))


@bp.get("/screenings/<int:screening_id>/status")
@login_required
def status(screening_id: int):
    """The self-polling progress fragment; once finished it returns the result with 286."""
    screening = _screening_or_404(screening_id)
    ensure_enqueued(screening)  # Redis back after an outage: start now
    code = STOP_POLLING if screening.status.finished else 200
    return render_page_or_fragment(url_for("screening.detail", screening_id=screening.id),
                                   "screening/partials/facial.html", code, **_context(screening))


@bp.post("/screenings/<int:screening_id>/retry")
@login_required
def retry(screening_id: int):
    screening = _screening_or_404(screening_id)
    if screening.patient_id != current_user.id:
        abort(403, description=_("Only the patient can retry the analysis of their screening."))
    screenings.retry(screening, current_user)
    return render_page_or_fragment(url_for("screening.detail", screening_id=screening.id),
                                   "screening/partials/facial.html", **_context(screening))


@bp.get("/screenings/<int:screening_id>/activation-map")
@login_required
def activation_map(screening_id: int):
    """The self-polling Grad-CAM figure for doctors; 286 once there is nothing left to wait for."""
    screening = _screening_or_404(screening_id)
    if not activation_map_visible_to(current_user, screening):
        abort(404)
    state = activation_maps.state(screening)
    waiting = state in (activation_maps.PENDING, activation_maps.OFFLINE)
    return render_page_or_fragment(url_for("screening.detail", screening_id=screening.id),
                                   "screening/partials/activation_map.html", 200 if waiting else STOP_POLLING,
                                   s=screening, state=state)


# --- history and home panel ---------------------------------------------------------------


@bp.get("/screenings")
@role_required(Role.PATIENT)
def history():
    return render_template("screening/history.html", screenings=screenings.list_for_patient(current_user))


@bp.get("/screenings/panel")
@role_required(Role.PATIENT)
def panel():
    return render_page_or_fragment(
        url_for("home.patient"), "screening/partials/panel.html",
        screenings=screenings.list_for_patient(current_user, limit=3),
        has_consent=consent.active_screening_consent(current_user) is not None,
    )


# --- media and model card -----------------------------------------------------------------


@bp.get("/screenings/<int:screening_id>/media/<any(photo, crop, gradcam):which>")
@login_required
def media(screening_id: int, which: str):
    screening = _screening_or_404(screening_id)
    if which == "photo":
        path, mimetype = (screening.media_path, "image/jpeg") if screening.kind == "photo" else (None, None)
    elif which == "crop":
        path, mimetype = screening.crop_path, "image/jpeg"
    else:
        if not activation_map_visible_to(current_user, screening):
            abort(404)
        path, mimetype = screening.gradcam_path, "image/png"
    if not path:
        abort(404)
    try:
        data = media_store.load(path)
    except (FileNotFoundError, MediaDecryptionError):
        current_app.logger.exception("screening %s: %s unreadable", screening.id, which)
        abort(404)
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/screenings/model-card/<name>")
@login_required
def model_card(name: str):
    plugin = next((status for status in list_plugins() if status.name == name), None)
    if plugin is None:
        abort(404)
    if current_user.role in (Role.DOCTOR, Role.ADMIN):  # the clinic's figures are for its staff
        return render_template("screening/model_card.html", plugin=plugin,
                               evidence_snapshots=evidence.snapshots_for_plugin(plugin.name))
    return render_template("screening/model_card.html", plugin=plugin)


# --- JSON ---------------------------------------------------------------------------------


@bp.get("/api/v1/screenings/<int:screening_id>")
@api_scope(TokenScope.SCREENINGS_READ)
def api_detail(screening_id: int):
    if not current_user.is_authenticated:
        abort(401)
    screening = _screening_or_404(screening_id)
    note_patient(screening.patient_id)
    response = jsonify(presenters.api_payload(screening))
    response.headers["Cache-Control"] = "no-store"
    return response
