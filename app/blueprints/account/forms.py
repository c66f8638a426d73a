from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.i18n.zones import all_timezones
from app.web.i18n import language_choices


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[
        DataRequired(message=_l("Enter your password to confirm.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    # Asked only of patients who turned two-step login on (the service insists on it then).
    code = StringField(_l("Code from your authenticator app (or a recovery code)"),
                       validators=[Optional(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    understood = BooleanField(
        "I understand that my account and all my data will be deleted for good, and that this "
        "cannot be undone.",
        validators=[DataRequired(message=_l("Tick this box to confirm that you want to delete everything."))])


class PreferencesForm(FlaskForm):
    """The account's language and time zone; choices are filled per request (the languages are
    the shipped catalogues), so a value from outside the lists is refused with a message."""

    language = SelectField(_l("Language"), validate_choice=True)
    timezone = SelectField(_l("Time zone"), validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [SelectChoice(choice["code"], choice["name"])
                                 for choice in language_choices()]
        self.timezone.choices = [SelectChoice(zone, zone.replace("_", " ")) for zone in all_timezones()]
