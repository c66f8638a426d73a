"""The privacy page: what MoodLens stores, a download of all of it, and account deletion."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import get_locale, get_timezone, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.blueprints.account import bp
from app.blueprints.account.forms import DeleteAccountForm, PreferencesForm
from app.extensions import limiter
from app.models.care import Report
from app.models.user import Role
from app.security.policy import role_required
from app.services import preferences, privacy, reports, research_consent
from app.web.forms import errors_in

DELETED_KEY = "account_deleted"


def _per_account() -> str:
    return f"privacy:{current_user.get_id()}"


def _anonymous() -> bool:
    # Unlimited for anonymous requests: they are only sent to the log-in page.
    return not current_user.is_authenticated


def _preferences_form() -> PreferencesForm:
    user = current_user._get_current_object()
    # formdata=None: the page re-shown after another form's POST shows the stored choices.
    return PreferencesForm(formdata=None, language=user.locale or str(get_locale()),
                           timezone=user.timezone or str(get_timezone()))


def _page(form: DeleteAccountForm, status: int = 200, preferences_form: PreferencesForm | None = None):
    return render_template("account/index.html", form=form, stored=privacy.inventory(current_user),
                           preferences_form=preferences_form or _preferences_form(),
                           retention=current_app.config["MEDIA_RETENTION"],
                           research_consent=research_consent.has_research_consent(current_user)), status


@bp.get("/account")
@role_required(Role.PATIENT)
def index():
    return _page(DeleteAccountForm())


def _report_pdf(report: Report) -> bytes:
    frozen = reports.frozen_pdf(report)  # a final report as it was finalised
    if frozen is not None:
        return frozen
    html = render_template("reports/report_pdf.html", **reports.content(report))
    return reports.render_pdf(html, base_url=request.url_root)


@bp.post("/account/research-consent")
@role_required(Role.PATIENT)
def research_consent_grant():
    research_consent.grant(current_user._get_current_object())
    flash(_("Thank you. Your screenings now count towards this clinic's research, without your name."),
          "info")
    return redirect(url_for("account.index", _anchor="research"))


@bp.post("/account/research-consent/withdraw")
@role_required(Role.PATIENT)
def research_consent_withdraw():
    if research_consent.withdraw(current_user._get_current_object()):
        flash(_("Your research consent is withdrawn. Your screenings leave the clinic's research at its next "
              "update; your own care is not affected."), "info")
    return redirect(url_for("account.index", _anchor="research"))


@bp.post("/account/export")
@limiter.limit("10 per hour", key_func=_per_account, exempt_when=_anonymous)
@role_required(Role.PATIENT)
def export():
    archive = privacy.build_export(current_user._get_current_object(), render_report_pdf=_report_pdf)
    response = send_file(archive.file, mimetype="application/zip", as_attachment=True,
                         download_name=archive.filename, conditional=False, etag=False)
    response.content_length = archive.size
    response.headers["Cache-Control"] = "no-store"  # never kept by a browser or proxy cache
    return response


@bp.post("/account/delete")
@limiter.limit("5 per 15 minutes", key_func=_per_account, exempt_when=_anonymous)
@role_required(Role.PATIENT)
def delete():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        summary = privacy.delete_account(current_user._get_current_object(), form.password.data,
                                          form.code.data)
    except privacy.PrivacyError as error:
        form.password.errors.append(error.message)
        return _page(form, error.status)
    logout_user()
    session.clear()
    session[DELETED_KEY] = summary.as_dict()  # counts only, for the confirmation page
    return redirect(url_for("account.deleted"))


@bp.post("/account/preferences")
@login_required
def preferences_update():
    """Language and time zone. Every role may post here; the form sits on the patient's account
    page (others switch language in the footer, and their time zone comes from the browser)."""
    form = PreferencesForm()
    user = current_user._get_current_object()
    if not form.validate_on_submit():
        if user.role is Role.PATIENT:
            return _page(DeleteAccountForm(), 400, preferences_form=form)
        abort(400, description=errors_in(form))
    preferences.set_language(user, form.language.data)
    preferences.set_timezone(user, form.timezone.data)
    refresh()  # the confirmation already speaks the chosen language
    flash(_("Your language and time zone are saved."), "success")
    return redirect(url_for("account.index", _anchor="preferences") if user.role is Role.PATIENT
                    else url_for("home.index"))


@bp.get("/account/deleted")
def deleted():
    summary = session.get(DELETED_KEY)
    if summary is None or current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return render_template("account/deleted.html", summary=summary)
