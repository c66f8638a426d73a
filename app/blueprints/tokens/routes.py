"""A doctor's personal API tokens and an admin's integration tokens: issue (shown once), list, revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.blueprints.tokens import bp
from app.blueprints.tokens.forms import ActionForm, IntegrationForm, TokenForm
from app.models._time import utcnow
from app.models.api_token import SCOPE_LABELS, TokenKind
from app.models.user import Role
from app.security.policy import role_required
from app.services import api_tokens, directory


def _shown_once(template: str, status: int = 200, **context):
    # The page may hold a new token's secret: no browser or proxy may keep a copy.
    return render_template(template, now=utcnow(), **context), status, {"Cache-Control": "no-store"}


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@role_required(Role.DOCTOR)
def personal():
    form = TokenForm()
    issued = None
    status = 200
    if form.validate_on_submit():
        try:
            issued = api_tokens.issue_personal(current_user, form.name.data, form.scopes.data,
                                               form.days.data)
        except api_tokens.TokenError as error:
            form.name.errors.append(error.message)
            status = error.status
        else:
            form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 400
    return _shown_once("tokens/personal.html", status, form=form, issued=issued,
                       tokens=api_tokens.personal_and_delegated(current_user),
                       action_form=ActionForm(), scope_labels=SCOPE_LABELS, kinds=TokenKind)


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@role_required(Role.DOCTOR)
def revoke_personal(token_id: int):
    return _revoke(token_id, "tokens.personal")


def _integration_form(**kwargs) -> IntegrationForm:
    form = IntegrationForm(**kwargs)
    form.doctor_id.choices = [SelectChoice(profile.user_id, f"{profile.full_name} ({profile.user.email})")
                              for profile in directory.list_doctors()]
    return form


@bp.route("/admin/integrations", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def integrations():
    form = _integration_form()
    issued = None
    status = 200
    if form.validate_on_submit():
        try:
            issued = api_tokens.issue_integration(current_user, form.name.data, form.doctor_id.data,
                                                  form.scopes.data, form.days.data)
        except api_tokens.TokenError as error:
            form.doctor_id.errors.append(error.message)
            status = error.status
        else:
            form = _integration_form(formdata=None)
    elif form.is_submitted():
        status = 400
    return _shown_once("tokens/integrations.html", status, form=form, issued=issued,
                       tokens=api_tokens.integrations(), action_form=ActionForm(),
                       scope_labels=SCOPE_LABELS)


@bp.post("/admin/integrations/<int:token_id>/revoke")
@role_required(Role.ADMIN)
def revoke_integration(token_id: int):
    return _revoke(token_id, "tokens.integrations")


def _revoke(token_id: int, back: str):
    if not ActionForm().validate_on_submit():
        abort(400, description=_("The form expired. Reload the page and try again."))
    try:
        token = api_tokens.revoke(current_user, token_id)
    except api_tokens.TokenError as error:
        abort(error.status, description=error.message)
    flash(_("Token “%(name)s” is revoked; it stops working at once.", name=token.name), "success")
    return redirect(url_for(back))
