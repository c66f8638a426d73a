"""The admin console. Admins manage the platform; they never see clinical content.

Every view here is wrapped in `role_required(Role.ADMIN)` (tests walk the URL map to prove it).
Actions are POSTs with a CSRF token; a refused action (a ServiceError) answers with its 4xx status
and says why: an htmx request gets the message in the page's message area, a plain form the page
again (`refusals_shown_on`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.blueprints.admin import bp
from app.blueprints.admin.forms import (
    ActionForm,
    AuditFilterForm,
    DoctorFilterForm,
    ReasonForm,
    UserSearchForm,
)
from app.i18n.marker import N_
from app.models._ids import parse_id
from app.models.user import Role, VerificationStatus
from app.security import audit
from app.security.policy import role_required
from app.services import admin_doctors, admin_users, audit_log, platform_stats, plugin_settings, queue_health
from app.services.errors import ServiceError
from app.web.errors import refusals_shown_on
from app.web.htmx import render_page_or_fragment

admin_only = role_required(Role.ADMIN)


def _page_number() -> int:
    """The page asked for; 1 for nonsense, 404 for a number past any page there can be."""
    raw = request.args.get("page", "1").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    page = parse_id(raw)
    if page is None and raw.lstrip("0"):
        abort(404, description=_("There is no such page."))
    return page or 1


@bp.get("/")
@admin_only
def index():
    return render_template("admin/index.html", stats=platform_stats.overview(),
                           doctor_counts=admin_doctors.status_counts())


# --- Classifier plugins -------------------------------------------------------------------

def _plugin_list(**shown) -> dict:
    return dict(plugins=plugin_settings.list_plugins(), form=ActionForm(), **shown)


def _plugins_page(confirm: dict | None = None):
    return render_page_or_fragment("admin/plugins.html", "admin/partials/plugin_list.html",
                                   **_plugin_list(confirm=confirm))


def _plugins_changed(done: str):
    """After a change: the list again with the outcome for htmx, or back to the page, flashed."""
    return render_page_or_fragment(url_for("admin.plugins"), "admin/partials/plugin_list.html",
                                   flashed=(done, "success"), **_plugin_list(message=done))


@bp.get("/plugins")
@admin_only
def plugins():
    return _plugins_page()


def _change_plugin(change, name: str, done: str, tell_default: bool = False):
    """`done`: an N_-marked message with a %(name)s placeholder for the plugin."""
    change(name, actor_id=current_user.id)
    done = _(done, name=name)
    if tell_default:
        done += " " + _("New screenings use %(name)s.", name=plugin_settings.default_plugin_name())
    return _plugins_changed(done)


@bp.post("/plugins/<name>/enable")
@admin_only
@refusals_shown_on(_plugins_page)
def enable_plugin(name: str):
    return _change_plugin(plugin_settings.enable, name, N_("%(name)s is enabled."))


@bp.post("/plugins/<name>/disable")
@admin_only
@refusals_shown_on(_plugins_page)
def disable_plugin(name: str):
    return _change_plugin(plugin_settings.disable, name, N_("%(name)s is disabled."), tell_default=True)


@bp.post("/plugins/<name>/default")
@admin_only
@refusals_shown_on(_plugins_page)
def set_default_plugin(name: str):
    confirmed = request.form.get("confirm") == "yes"
    try:
        plugin_settings.set_default(name, actor_id=current_user.id, confirmed=confirmed)
    except plugin_settings.ConfirmationRequired as question:
        # Not a refusal: the same page asks, with the numbers, and offers the confirmed form.
        return _plugins_page(confirm={"name": name, "message": str(question)})
    return _plugins_changed(_("%(name)s is now the default for new screenings.", name=name))


@bp.get("/plugins/<name>/confusion-matrix.png")
@admin_only
def plugin_confusion_matrix(name: str):
    path = plugin_settings.confusion_matrix_file(name)
    if path is None:
        abort(404, description=_("This plugin has no confusion-matrix image."))
    return send_file(path, mimetype="image/png", max_age=0)


# --- Doctors ------------------------------------------------------------------------------

def _doctors_page():
    filters = DoctorFilterForm(request.args)
    wanted = filters.status.data if filters.validate() else VerificationStatus.PENDING.value
    status = None if wanted == "all" else VerificationStatus(wanted or VerificationStatus.PENDING.value)
    return render_template("admin/doctors.html", filters=filters, status=status,
                           doctors=admin_doctors.list_doctors(status), counts=admin_doctors.status_counts(),
                           form=ActionForm(), reason_form=ReasonForm())


@bp.get("/doctors")
@admin_only
def doctors():
    return _doctors_page()


def _back_to_doctors():
    return redirect(url_for("admin.doctors", status=request.args.get("status") or None))


@bp.post("/doctors/<int:user_id>/verify")
@admin_only
@refusals_shown_on(_doctors_page)
def verify_doctor(user_id: int):
    profile = admin_doctors.verify(user_id, current_user)
    flash(_("Dr %(name)s is verified and now appears in the doctor directory.", name=profile.full_name),
          "success")
    return _back_to_doctors()


def _close_doctor(user_id: int, change, done: str):
    form = ReasonForm()
    if not form.validate():
        reasons = "; ".join(map(str, form.reason.errors))  # lazy messages: str() to join them
        raise ServiceError(reasons or _("Give a reason: the doctor will see it."), 400)
    profile = change(user_id, current_user, form.reason.data)
    flash(_(done, name=profile.full_name), "success")
    return _back_to_doctors()


@bp.post("/doctors/<int:user_id>/reject")
@admin_only
@refusals_shown_on(_doctors_page)
def reject_doctor(user_id: int):
    return _close_doctor(user_id, admin_doctors.reject, N_("The application of Dr %(name)s was rejected."))


@bp.post("/doctors/<int:user_id>/revoke")
@admin_only
@refusals_shown_on(_doctors_page)
def revoke_doctor(user_id: int):
    return _close_doctor(user_id, admin_doctors.revoke,
                         N_("The verification of Dr %(name)s was revoked; their access to patients "
                            "has ended."))


# --- Users --------------------------------------------------------------------------------

def _users_page():
    filters = UserSearchForm(request.args)
    filters.validate()
    role = Role(filters.role.data) if filters.role.data in {r.value for r in Role} else None
    active = {"active": True, "inactive": False}.get(filters.status.data or "")
    results = admin_users.search(email=filters.email.data, role=role, active=active, page=_page_number())
    return render_template("admin/users.html", filters=filters, results=results, form=ActionForm(),
                           query_args={k: v for k, v in request.args.items() if k != "page" and v})


@bp.get("/users")
@admin_only
def users():
    return _users_page()


def _change_user(change, user_id: int, done: str):
    user = change(user_id, current_user)
    flash(_(done, email=user.email), "success")
    return redirect(_same_search(url_for("admin.users")))


def _same_search(page: str) -> str:
    """Back to the search the admin came from (same host and page only), or the plain page."""
    came_from = urlsplit(request.referrer or "")
    if came_from.netloc == request.host and came_from.path == page:
        return f"{page}?{came_from.query}" if came_from.query else page
    return page


@bp.post("/users/<int:user_id>/deactivate")
@admin_only
@refusals_shown_on(_users_page)
def deactivate_user(user_id: int):
    return _change_user(admin_users.deactivate, user_id,
                        N_("%(email)s is deactivated; their sessions have ended."))


@bp.post("/users/<int:user_id>/reactivate")
@admin_only
@refusals_shown_on(_users_page)
def reactivate_user(user_id: int):
    return _change_user(admin_users.reactivate, user_id, N_("%(email)s is active again."))


@bp.post("/users/<int:user_id>/reset-second-factor")
@admin_only
@refusals_shown_on(_users_page)
def reset_second_factor(user_id: int):
    return _change_user(admin_users.reset_second_factor, user_id,
                        N_("The second factor of %(email)s was removed and their sessions ended; "
                           "they enrol a new one at their next log-in."))


# --- Audit trail --------------------------------------------------------------------------

@bp.get("/audit")
@admin_only
def audit_trail():
    filters = AuditFilterForm(request.args)
    filters.action.choices = ([SelectChoice("", _("Any action"))]
                              + [SelectChoice(a, a) for a in audit_log.actions()])
    valid = filters.validate()
    criteria = audit_log.AuditFilter(
        actor=filters.actor.data, patient=filters.patient.data, action=filters.action.data or None,
        since=filters.since.data if valid else None, until=filters.until.data if valid else None)
    results = audit_log.search(criteria, page=_page_number())  # an unreadable id matches nothing
    return render_template("admin/audit.html", filters=filters, results=results,
                           emails=audit_log.emails_for(results.items),
                           query_args={k: v for k, v in request.args.items() if k != "page" and v}
                           ), 400 if filters.actor.errors or filters.patient.errors else 200


@bp.get("/audit/verify")
@admin_only
def audit_verify():
    broken = audit.verify_chain()
    return render_template("admin/audit_verify.html", broken=broken)


# --- Queue and workers --------------------------------------------------------------------

def _queue_page():
    return render_page_or_fragment("admin/queue.html", "admin/partials/queue_status.html",
                                   health=queue_health.health(), form=ActionForm())


@bp.get("/queue")
@admin_only
def queue():
    return _queue_page()


@bp.post("/queue/failed/<job_id>/retry")
@admin_only
@refusals_shown_on(_queue_page)
def retry_job(job_id: str):
    queue_health.retry_failed(job_id, actor_id=current_user.id)
    flash(_("Job %(job)s is back on the queue.", job=job_id), "success")
    return redirect(url_for("admin.queue"))
