"""Forms for issuing API tokens. Revoking uses a CSRF-only action form."""

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.api_token import SCOPE_LABELS
from app.services.api_tokens import EXPIRY_CHOICES_DAYS, NAME_MAX


class ActionForm(FlaskForm):
    """A button that changes something: nothing to fill in, but CSRF-protected."""


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField("Name (what will use it)", validators=[
        DataRequired(message="Give the token a name."), Length(max=NAME_MAX)])
    scopes = _Checkboxes("Scopes",
                         choices=[SelectChoice(scope.value, label) for scope, label in SCOPE_LABELS.items()],
                         validators=[DataRequired(message="Choose at least one scope.")])
    days = SelectField("Valid for", coerce=int, default=90,
                       choices=[SelectChoice(days, f"{days} days") for days in EXPIRY_CHOICES_DAYS])


class IntegrationForm(TokenForm):
    name = StringField("System (e.g. the hospital EHR)", validators=[
        DataRequired(message="Name the system that will use it."), Length(max=NAME_MAX)])
    doctor_id = SelectField("Acts for doctor", coerce=int,
                            validators=[DataRequired(message="Choose the doctor it acts for.")])
    days = SelectField("Valid for", coerce=int, default=365,
                       choices=[SelectChoice(days, f"{days} days") for days in EXPIRY_CHOICES_DAYS])
