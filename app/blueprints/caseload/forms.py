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

    status = SelectField("Status", choices=[SelectChoice(value, label) for value, label in status_choices()],
                         default="")
    overdue = BooleanField("Follow-up overdue")
    flagged = BooleanField("Item 9 flagged")
    past = BooleanField("Past patients")
    q = StringField("Search by name", validators=[Optional(), Length(max=SEARCH_MAX,
                    message=f"Search for at most {SEARCH_MAX} characters.")])
    sort = SelectField("Sort by", choices=[SelectChoice(value, label) for value, label in SORTS.items()],
                       default="attention")
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, message="Pages start at 1.")])


class FollowupForm(FlaskForm):
    days = IntegerField("Next follow-up screening in (days)",
                        validators=[InputRequired(message="Give a number of days.")])

    def set_limits(self, low: int, high: int) -> None:
        self.days.validators = [*self.days.validators, NumberRange(
            low, high, message=f"The follow-up interval must be between {low} and {high} days.")]


class DismissPromptForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    screening_id = HiddenField(validators=[DataRequired()])
    reason = TextAreaField("Reason for dismissing", validators=[
        DataRequired(message="Give a reason for dismissing this prompt."),
        Length(max=REASON_MAX, message=f"The reason may be at most {REASON_MAX} characters.")])
