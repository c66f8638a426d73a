from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.services.caseload import SEARCH_MAX, SORTS, status_choices
from app.services.episodes import REASON_MAX


class FilterForm(FlaskForm):
    """The caseload's filters, read from the query string (a GET: nothing to protect with CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"),
                         choices=[SelectChoice(value, _l(label)) for value, label in status_choices()],
                         default="")
    overdue = BooleanField(_l("Follow-up overdue"))
    flagged = BooleanField(_l("Item 9 flagged"))
    past = BooleanField(_l("Past patients"))
    q = StringField(_l("Search by name"), validators=[Optional(), Length(max=SEARCH_MAX,
                    message=_l("Search for at most %(count)d characters.", count=SEARCH_MAX))])
    sort = SelectField(_l("Sort by"),
                       choices=[SelectChoice(value, _l(label)) for value, label in SORTS.items()],
                       default="attention")
    page = IntegerField(_l("Page"),
                        validators=[Optional(), NumberRange(min=1, message=_l("Pages start at 1."))])


class FollowupForm(FlaskForm):
    days = IntegerField(_l("Next follow-up screening in (days)"),
                        validators=[InputRequired(message=_l("Give a number of days."))])

    def set_limits(self, low: int, high: int) -> None:
        self.days.validators = [*self.days.validators, NumberRange(
            low, high, message=_l("The follow-up interval must be between %(low)d and %(high)d days.",
                                  low=low, high=high))]


class DismissPromptForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    screening_id = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for dismissing"), validators=[
        DataRequired(message=_l("Give a reason for dismissing this prompt.")),
        Length(max=REASON_MAX,
               message=_l("The reason may be at most %(count)d characters.", count=REASON_MAX))])
