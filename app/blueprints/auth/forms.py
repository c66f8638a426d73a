from datetime import date

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError


def _strong_enough(form, field) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(_("Use at least %(minimum)d characters. A few unrelated words work well.",
                                minimum=minimum))


NOT_AN_EMAIL = _l("Enter a valid e-mail address. It looks like name@example.org.")


def password_rule() -> str:
    return _("At least %(minimum)d characters. A few unrelated words work well.",
             minimum=current_app.config["PASSWORD_MIN_LENGTH"])


def _looks_like_an_email(form, field) -> None:
    """Only the shape (one @, something on both sides, no spaces): whether the account exists is
    the log-in's own question, and a stricter check could lock out an address already in use."""
    local, at, domain = (field.data or "").partition("@")
    if not (local and at and domain) or "@" in domain or any(c.isspace() for c in field.data):
        raise ValidationError(NOT_AN_EMAIL)


def _in_the_past(form, field) -> None:
    if field.data and not date(1900, 1, 1) <= field.data <= date.today():
        raise ValidationError(_("Enter a real date of birth."))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), _looks_like_an_email, Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class _AccountForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(), Email(message=NOT_AN_EMAIL), Length(max=254)], render_kw={"autocomplete": "email"})
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)],
                            render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), _strong_enough, Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.description = password_rule()  # shown before anyone gets it wrong


class PatientRegistrationForm(_AccountForm):
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional(), _in_the_past],
                              render_kw={"autocomplete": "bday"})


class DoctorRegistrationForm(_AccountForm):
    licence_number = StringField(_l("Medical licence number"), validators=[DataRequired(), Length(max=64)])
    specialty = StringField(_l("Specialty"), validators=[DataRequired(), Length(max=80)])
    languages = StringField(_l("Languages you consult in (comma-separated, e.g. en, fr)"),
                            validators=[DataRequired(), Length(max=200)])


class MfaCodeForm(FlaskForm):
    code = StringField(_l("6-digit code from your authenticator app (or a recovery code)"),
                       validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class MfaSetupForm(MfaCodeForm):
    # Asked only when a factor is already on: replacing it needs more than a live session.
    current = PasswordField(_l("Your password, or a code from the app you use now"),
                            validators=[Optional(), Length(max=1024)],
                            render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(), Email(message=NOT_AN_EMAIL), Length(max=254)], render_kw={"autocomplete": "email"})


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), _strong_enough, Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat new password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.description = password_rule()


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)],
                            render_kw={"autocomplete": "current-password"})


class ButtonForm(FlaskForm):
    """A form that is only a button (and its CSRF token)."""
