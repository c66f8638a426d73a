"""Forms for issuing API tokens. Revoking uses a CSRF-only action form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.api_token import SCOPE_LABELS
from app.services.api_tokens import EXPIRY_CHOICES_DAYS, NAME_MAX


def _day_choices() -> list[SelectChoice]:
    return [SelectChoice(days, _l("%(count)d days", count=days)) for days in EXPIRY_CHOICES_DAYS]


class ActionForm(FlaskForm):
    """A button that changes something: nothing to fill in, but CSRF-protected."""


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField(_l("Name (what will use it)"), validators=[
        DataRequired(message=_l("Give the token a name.")), Length(max=NAME_MAX)])
    scopes = _Checkboxes(_l("Scopes"),
                         choices=[SelectChoice(scope.value, _l(label))
                                  for scope, label in SCOPE_LABELS.items()],
                         validators=[DataRequired(message=_l("Choose at least one scope."))])
    days = SelectField(_l("Valid for"), coerce=int, default=90,
                       choices=_day_choices())


class IntegrationForm(TokenForm):
    name = StringField(_l("System (e.g. the hospital EHR)"), validators=[
        DataRequired(message=_l("Name the system that will use it.")), Length(max=NAME_MAX)])
    doctor_id = SelectField(_l("Acts for doctor"), coerce=int,
                            validators=[DataRequired(message=_l("Choose the doctor it acts for."))])
    days = SelectField(_l("Valid for"), coerce=int, default=365,
                       choices=_day_choices())
