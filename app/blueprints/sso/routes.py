"""Sign in with the hospital's provider, the callback, and RP-initiated logout."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from app.blueprints.sso import bp, client
from app.blueprints.sso.logout import ID_TOKEN_KEY
from app.security import sessions
from app.services import sso


def _failure(message: str, status: int):
    return render_template("sso/error.html", message=message), status


def _mapping() -> sso.RoleMapping:
    config = current_app.config
    return sso.RoleMapping(claim=config["OIDC_ROLE_CLAIM"],
                           doctor_values=frozenset(config["OIDC_DOCTOR_VALUES"]),
                           admin_values=frozenset(config["OIDC_ADMIN_VALUES"]))


@bp.get("/login")
def login():
    if not client.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    try:
        client.metadata()
    except client.SsoUnavailable as error:
        current_app.logger.error("SSO: %s", error)
        return _failure(f"Sign-in with {current_app.config['OIDC_PROVIDER_NAME']} is not available right "
                        "now. Try again later, or log in with your MoodLens password.", 503)
    return client.client().authorize_redirect(url_for("sso.callback", _external=True))


@bp.get("/callback")
def callback():
    if not client.enabled():
        abort(404)
    try:
        token = client.client().authorize_access_token(leeway=current_app.config["OIDC_CLOCK_SKEW_SECONDS"])
        claims = token.get("userinfo")
        if not claims:
            raise ValueError("the provider sent no ID token")
    except client.FLOW_ERRORS as error:
        current_app.logger.warning("SSO: sign-in refused: %s: %s", type(error).__name__, error)
        return _failure("The sign-in could not be completed (it was interrupted, used twice, or the "
                        "provider's answer did not check out). Start again.", 400)
    identity = sso.Identity.from_claims(claims, current_app.config["OIDC_ROLE_CLAIM"])
    try:
        user = sso.sign_in(identity, _mapping())
    except sso.SsoError as error:
        return _failure(error.message, error.status)
    config = current_app.config
    mfa_done = sso.provider_did_mfa(identity, config["OIDC_MFA_AMR_VALUES"], config["OIDC_MFA_ACR_VALUES"])
    sso.record_login(user, mfa_done)
    # A fresh session (no fixation); the session rules then ask for MoodLens's own second factor
    # unless the provider already did multi-factor sign-in.
    session.clear()
    login_user(user)
    sessions.start(user, second_factor_done=mfa_done or not sessions.needs_second_factor(user))
    session[ID_TOKEN_KEY] = token["id_token"]
    return redirect(url_for("home.index"))


@bp.get("/signed-out")
def signed_out():
    """Signed out of MoodLens; on to the provider's end-session endpoint (and only there)."""
    if not client.enabled():
        abort(404)
    target = request.args.get("next", "")
    try:
        endpoint = client.metadata().get("end_session_endpoint") or ""
    except client.SsoUnavailable:
        endpoint = ""
    if not endpoint or not target.startswith(endpoint + "?"):
        return redirect(url_for("auth.login"))
    return render_template("sso/signed_out.html", target=target)
