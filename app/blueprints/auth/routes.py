"""Registration, login and logout, the second factor, password reset and address confirmation."""

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import (
    ButtonForm,
    ChangePasswordForm,
    DoctorRegistrationForm,
    ForgotPasswordForm,
    LoginForm,
    MfaCodeForm,
    MfaSetupForm,
    NewPasswordForm,
    PatientRegistrationForm,
)
from app.blueprints.sso.logout import logout_redirect
from app.extensions import limiter
from app.security import login_throttle, mfa, sessions
from app.security.redirects import safe_next
from app.services import accounts, live
from app.services import mfa as mfa_service

# Sign-up, reset and resend all send e-mail: one budget per client address for all of them.
account_mail_limit = limiter.shared_limit(
    lambda: current_app.config["ACCOUNT_EMAIL_RATE_LIMIT"], scope="account-mail", methods=["POST"],
    key_func=lambda: "account-mail:" + get_remote_address())


def start_session(user, second_factor_done: bool | None = None) -> None:
    # A fresh session on every login (no fixation): nothing from before survives, on the
    # server either (a copy of the old cookie must not keep a live record).
    sessions.end_current()
    session.clear()
    login_user(user)
    if second_factor_done is None:
        second_factor_done = not sessions.needs_second_factor(user)
    sessions.start(user, second_factor_done=second_factor_done)


def _after_login():
    """Where a fully signed-in person goes: the `next` page they were sent from, or home."""
    return redirect(safe_next(session.pop("after_login", None)) or url_for("home.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_IP"], methods=["POST"],
               key_func=lambda: "login-ip:" + get_remote_address())
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = accounts.log_in(form.email.data, form.password.data,
                                  request.cookies.get(login_throttle.DEVICE_COOKIE))
        if outcome.locked:
            flash(_("Too many wrong passwords for this account from new devices. Try again in "
                    "%(minutes)d minutes, log in from a device you used before, or choose a new password.",
                    minutes=current_app.config["LOGIN_LOCK_MINUTES"]), "error")
            return render_template("auth/login.html", form=form), 429
        if outcome.user is None:
            flash(_("That e-mail and password do not match an active account."), "error")
            return render_template("auth/login.html", form=form), 401
        start_session(outcome.user)
        session["after_login"] = safe_next(request.args.get("next"))
        if outcome.user.email_verified_at is None:
            flash(_("Please confirm your e-mail address: follow the link we sent you."), "info")
        response = _after_login() if sessions.second_factor_done() else redirect(url_for("auth.mfa_verify"))
        response.set_cookie(login_throttle.DEVICE_COOKIE, outcome.device_cookie,
                            max_age=current_app.config["DEVICE_COOKIE_DAYS"] * 86400, httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax",
                            path=url_for("auth.login"))
        return response
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    after_sso = logout_redirect()  # before the session ends: it holds the ID token
    user_id = current_user.id
    sessions.end_current()
    logout_user()
    session.clear()
    live.access_changed(user_id)  # streams of this session end; the account's others check and go on
    flash(_("You have been logged out."), "info")
    return redirect(after_sso or url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@account_mail_limit
def register():
    form = PatientRegistrationForm()
    if form.validate_on_submit():
        accounts.sign_up_patient(form.email.data, form.password.data, form.full_name.data,
                                 form.date_of_birth.data, locale=str(get_locale()))
        return redirect(url_for("auth.register_sent"))
    return render_template("auth/register.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/register/doctor", methods=["GET", "POST"])
@account_mail_limit
def register_doctor():
    form = DoctorRegistrationForm()
    if form.validate_on_submit():
        accounts.sign_up_doctor(form.email.data, form.password.data, form.full_name.data,
                                form.licence_number.data, form.specialty.data, form.languages.data,
                                locale=str(get_locale()))
        return redirect(url_for("auth.register_sent"))
    return render_template("auth/register_doctor.html", form=form), 400 if form.is_submitted() else 200


@bp.get("/register/sent")
def register_sent():
    # The same page for a new and a taken address: which one it was is only said by e-mail.
    return render_template("auth/register_sent.html")


@bp.get("/confirm-email")
@login_required
def confirm_email_pending():
    if current_user.email_verified_at is not None:
        return redirect(url_for("home.index"))
    return render_template("auth/confirm_pending.html", form=ButtonForm())


@bp.post("/confirm-email")
@login_required
@account_mail_limit
def resend_confirmation():
    if ButtonForm().validate_on_submit():
        accounts.resend_confirmation(current_user._get_current_object())
        flash(_("We sent a new confirmation link. It may take a minute to arrive."), "success")
    return redirect(url_for("auth.confirm_email_pending"))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    # Opening the link only shows a button, so mail scanners that fetch links confirm nothing.
    form = ButtonForm()
    try:
        user = accounts.read_confirmation(token)
        if form.validate_on_submit():
            accounts.confirm_email(token)
            flash(_("Thank you: your e-mail address is confirmed."), "success")
            return redirect(url_for("home.index") if current_user.is_authenticated else url_for("auth.login"))
    except accounts.AccountError as error:
        return render_template("auth/link_problem.html", message=str(error), resend=True), 400
    if user.email_verified_at is not None:
        flash(_("Your e-mail address is already confirmed."), "info")
        return redirect(url_for("home.index") if current_user.is_authenticated else url_for("auth.login"))
    return render_template("auth/confirm_email.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/forgot", methods=["GET", "POST"])
@account_mail_limit
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash(_("If an account uses that address, we have sent it a link to choose a new password. "
                "The link works once, for %(minutes)d minutes.",
                minutes=current_app.config["PASSWORD_RESET_MINUTES"]), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = NewPasswordForm()
    try:
        accounts.read_reset_token(token)
        if form.validate_on_submit():
            accounts.reset_password(token, form.password.data)
            sessions.end_current()
            logout_user()
            session.clear()
            flash(_("Your new password is set and you were logged out everywhere. Log in with it now."),
                  "success")
            return redirect(url_for("auth.login"))
    except accounts.AccountError as error:
        return render_template("auth/link_problem.html", message=str(error), resend=False), 400
    return render_template("auth/reset.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current.data, form.password.data)
        except accounts.AccountError as error:
            form.current.errors.append(str(error))
            return render_template("auth/change_password.html", form=form), 400
        # Every session ended, this one too; this browser gets a fresh one (same second-factor state).
        start_session(user, second_factor_done=True)
        flash(_("Your password is changed. You were logged out on every other device."), "success")
        return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form), 400 if form.is_submitted() else 200


def _mfa_locked_message(form) -> bool:
    seconds = mfa_service.locked_for(current_user)
    if seconds:
        form.code.errors.append(_("Too many wrong codes. Wait %(seconds)d seconds, then try the newest code.",
                                  seconds=seconds))
    return bool(seconds)


@bp.route("/mfa", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"], key_func=lambda: f"mfa:{current_user.id}")
def mfa_verify():
    if sessions.second_factor_done():
        return redirect(url_for("home.index"))
    if not current_user.mfa_enabled:
        return redirect(url_for("auth.mfa_setup"))
    form = MfaCodeForm()
    if form.validate_on_submit():
        if _mfa_locked_message(form):
            return render_template("auth/mfa_verify.html", form=form), 429
        if mfa_service.check_second_factor(current_user, form.code.data):
            # Privilege changes: rotate the session before granting the clinician's rights.
            after = session.get("after_login")
            start_session(current_user._get_current_object(), second_factor_done=True)
            session["after_login"] = after
            return _after_login()
        if not _mfa_locked_message(form):
            form.code.errors.append(_("That code is not valid. Use the newest code from your app "
                                      "(each code works once), or one of your recovery codes."))
        return render_template("auth/mfa_verify.html", form=form), 401
    return render_template("auth/mfa_verify.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/mfa/setup", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"], key_func=lambda: f"mfa:{current_user.id}")
def mfa_setup():
    if current_user.mfa_enabled and not sessions.second_factor_done():
        return redirect(url_for("auth.mfa_verify"))
    # The secret waits in the server-side session until the user proves their app has it.
    secret = sessions.pending_secret()
    if secret is None:
        secret = mfa.new_secret()
        sessions.set_pending_secret(secret)
    form = MfaSetupForm()
    if form.validate_on_submit():
        try:
            codes = mfa_service.confirm_enrollment(current_user, secret, form.code.data, form.current.data)
        except mfa_service.MfaError as error:
            form.code.errors.append(str(error))
        else:
            start_session(current_user._get_current_object(), second_factor_done=True)
            response = make_response(render_template("auth/mfa_recovery_codes.html", codes=codes))
            response.headers["Cache-Control"] = "no-store"
            return response
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
    flash(_("You have been logged out on every device."), "info")
    return redirect(url_for("auth.login"))
