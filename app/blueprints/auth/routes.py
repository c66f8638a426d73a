"""Registration, login and logout."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import (
    DoctorRegistrationForm,
    LoginForm,
    MfaCodeForm,
    PatientRegistrationForm,
)
from app.blueprints.sso import routes as sso_routes
from app.extensions import limiter
from app.security import mfa, sessions
from app.services import accounts
from app.services import mfa as mfa_service


def start_session(user) -> None:
    # A fresh session on every login (no fixation): nothing from before survives.
    session.clear()
    login_user(user)
    sessions.start(user, second_factor_done=not sessions.needs_second_factor(user))


def _account_key() -> str:
    return "login-account:" + accounts.normalise_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an open redirect after login is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_IP"], methods=["POST"],
               key_func=lambda: "login-ip:" + get_remote_address())
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            start_session(user)
            session["after_mfa"] = _safe_next(request.args.get("next"))
            return redirect(session.pop("after_mfa", None) or url_for("home.index")
                            if session["mfa_ok"] else url_for("auth.mfa_verify"))
        flash("That e-mail and password do not match an active account.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    after_sso = sso_routes.logout_redirect()  # before the session ends: it holds the ID token
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(after_sso or url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = PatientRegistrationForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_patient(form.email.data, form.password.data,
                                             form.full_name.data, form.date_of_birth.data)
        except accounts.AccountError as error:
            form.email.errors.append(str(error))
            return render_template("auth/register.html", form=form), 409
        start_session(user)
        flash("Welcome to MoodLens. Your account is ready.", "success")
        return redirect(url_for("home.patient"))
    return render_template("auth/register.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/register/doctor", methods=["GET", "POST"])
def register_doctor():
    form = DoctorRegistrationForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_doctor(
                form.email.data, form.password.data, form.full_name.data,
                form.licence_number.data, form.specialty.data, form.languages.data)
        except accounts.AccountError as error:
            form.email.errors.append(str(error))
            return render_template("auth/register_doctor.html", form=form), 409
        start_session(user)
        flash("Your application has been received. An administrator will verify your licence.", "info")
        return redirect(url_for("home.doctor"))
    return render_template("auth/register_doctor.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/mfa", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"], key_func=lambda: f"mfa:{current_user.id}")
def mfa_verify():
    if session.get("mfa_ok"):
        return redirect(url_for("home.index"))
    if not current_user.mfa_enabled:
        return redirect(url_for("auth.mfa_setup"))
    form = MfaCodeForm()
    if form.validate_on_submit():
        if mfa_service.check_second_factor(current_user, form.code.data):
            # Privilege changes: rotate the session before granting the clinician's rights.
            start_session(current_user._get_current_object())
            session["mfa_ok"] = True
            return redirect(url_for("home.index"))
        form.code.errors.append("That code is not valid. Use the newest code from your app, "
                                "or one of your recovery codes.")
        return render_template("auth/mfa_verify.html", form=form), 401
    return render_template("auth/mfa_verify.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/mfa/setup", methods=["GET", "POST"])
@login_required
def mfa_setup():
    if current_user.mfa_enabled and not session.get("mfa_ok"):
        return redirect(url_for("auth.mfa_verify"))
    # The secret stays in the signed session until the user proves their app has it.
    secret = session.setdefault("mfa_pending_secret", mfa.new_secret())
    form = MfaCodeForm()
    if form.validate_on_submit():
        try:
            codes = mfa_service.confirm_enrollment(current_user, secret, form.code.data)
        except mfa_service.MfaError as error:
            form.code.errors.append(str(error))
        else:
            session.pop("mfa_pending_secret")
            start_session(current_user._get_current_object())
            session["mfa_ok"] = True
            return render_template("auth/mfa_recovery_codes.html", codes=codes)
    uri = mfa.provisioning_uri(secret, current_user.email)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/mfa_setup.html", form=form, secret=secret,
                           qr=mfa.qr_data_uri(uri)), status


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    mfa_service.end_all_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have been logged out on every device.", "info")
    return redirect(url_for("auth.login"))
