from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.models.care import DiagnosisOutcome, TreatmentPlan
from app.services.chat import MESSAGE_MAX
from app.services.consultations import DECLINE_REASON_MAX
from app.services.consultations import MESSAGE_MAX as REQUEST_MESSAGE_MAX
from app.services.diagnoses import NOTES_MAX, PLAN_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RequestForm(FlaskForm):
    doctor = SelectField(_l("Doctor"), coerce=str)
    screenings = MultiCheckboxField(_l("Screenings to share with this doctor"), coerce=int)
    message = TextAreaField(_l("A short message for the doctor (optional)"),
                            validators=[Optional(), Length(max=REQUEST_MESSAGE_MAX)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the patient sees it)"),
                           validators=[DataRequired(message=_l("Please give the patient a reason.")),
                                       Length(max=DECLINE_REASON_MAX)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[
        DataRequired(message=_l("Please write a message before sending.")),
        Length(max=MESSAGE_MAX,
               message=_l("Messages may be at most %(count)d characters.", count=MESSAGE_MAX))])


class DiagnosisForm(FlaskForm):
    outcome = RadioField(_l("Outcome"), choices=[
        SelectChoice(DiagnosisOutcome.CONFIRMED.value, _l("Depression confirmed")),
        SelectChoice(DiagnosisOutcome.REJECTED.value, _l("Depression not confirmed"))],
        validators=[DataRequired(message=_l("Choose whether depression is confirmed or not."))])
    severity = SelectField(_l("Severity"), validators=[Optional()])
    override_reason = TextAreaField(_l("Reason for a severity different from the PHQ-9 band"),
                                    validators=[Optional(), Length(max=NOTES_MAX)])
    notes = TextAreaField(_l("Clinical notes"), validators=[Optional(), Length(max=NOTES_MAX)])
    plan = SelectField(_l("Treatment plan"),
                       choices=[SelectChoice("", _l("—"))]
                       + [SelectChoice(p.value, PLAN_LABELS[p]) for p in TreatmentPlan],
                       validators=[Optional()])
    plan_details = TextAreaField(_l("Plan details"), validators=[Optional(), Length(max=NOTES_MAX)])
    followup_interval_days = IntegerField(_l("Follow-up every (days)"), validators=[Optional()])


class ReportForm(FlaskForm):
    period_start = StringField(_l("From (YYYY-MM-DD, optional)"), validators=[Optional(), Length(max=10)])
    period_end = StringField(_l("To (YYYY-MM-DD, optional)"), validators=[Optional(), Length(max=10)])
    comments = TextAreaField(_l("Comments"), validators=[Optional(), Length(max=NOTES_MAX)])
