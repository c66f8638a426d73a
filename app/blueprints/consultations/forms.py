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
    doctor = SelectField("Doctor", coerce=str)
    screenings = MultiCheckboxField("Screenings to share with this doctor", coerce=int)
    message = TextAreaField("A short message for the doctor (optional)",
                            validators=[Optional(), Length(max=REQUEST_MESSAGE_MAX)])


class DeclineForm(FlaskForm):
    reason = TextAreaField("Reason (the patient sees it)",
                           validators=[DataRequired(message="Please give the patient a reason."),
                                       Length(max=DECLINE_REASON_MAX)])


class MessageForm(FlaskForm):
    body = TextAreaField("Message", validators=[
        DataRequired(message="Please write a message before sending."),
        Length(max=MESSAGE_MAX, message=f"Messages may be at most {MESSAGE_MAX} characters.")])


class DiagnosisForm(FlaskForm):
    outcome = RadioField("Outcome", choices=[
        SelectChoice(DiagnosisOutcome.CONFIRMED.value, "Depression confirmed"),
        SelectChoice(DiagnosisOutcome.REJECTED.value, "Depression not confirmed")],
        validators=[DataRequired(message="Choose whether depression is confirmed or not.")])
    severity = SelectField("Severity", validators=[Optional()])
    override_reason = TextAreaField("Reason for a severity different from the PHQ-9 band",
                                    validators=[Optional(), Length(max=NOTES_MAX)])
    notes = TextAreaField("Clinical notes", validators=[Optional(), Length(max=NOTES_MAX)])
    plan = SelectField("Treatment plan",
                       choices=[SelectChoice("", "—")]
                       + [SelectChoice(p.value, PLAN_LABELS[p]) for p in TreatmentPlan],
                       validators=[Optional()])
    plan_details = TextAreaField("Plan details", validators=[Optional(), Length(max=NOTES_MAX)])
    followup_interval_days = IntegerField("Follow-up every (days)", validators=[Optional()])


class ReportForm(FlaskForm):
    period_start = StringField("From (YYYY-MM-DD, optional)", validators=[Optional(), Length(max=10)])
    period_end = StringField("To (YYYY-MM-DD, optional)", validators=[Optional(), Length(max=10)])
    comments = TextAreaField("Comments", validators=[Optional(), Length(max=NOTES_MAX)])
