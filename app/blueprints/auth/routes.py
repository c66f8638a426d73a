"""Registration, login and logout."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from flask_login import login_user as start_session

from app.blueprints.auth import bp
from app.blueprints.auth.forms import DoctorRegistrationForm, LoginForm, PatientRegistrationForm
from app.extensions import limiter
from app.services import accounts


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
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
        flash("That e-mail and password do not match an active account.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))


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
